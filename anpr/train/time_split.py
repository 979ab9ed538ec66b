"""Where each epoch's wall time went, from Lightning's profiler: optimizer steps, waiting for
data, validation (and its grammar decoding), callbacks and logging, checkpoints, the rest.

A run that trains slower than the model can must say why: a loader that cannot keep up shows as
data wait, a busy machine as slower steps, a heavy callback as its own share. Printed after
every epoch, logged under ``time/`` and kept for ``metrics.json`` (``time_split``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import lightning as L
from lightning.pytorch.profilers import SimpleProfiler

log = logging.getLogger(__name__)

GRAMMAR_ACTION = "validation grammar decoding"  # profiled by the LightningModule
PARTS = ("steps", "data_wait", "validation", "grammar_decoding", "callbacks_and_logging", "checkpointing")
# Callback hooks that run inside run_training_batch, so inside "steps" already.
_INSIDE_STEP = ("on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad")


def part_of(action: str) -> str | None:
    """The part of the epoch a profiler action belongs to (None: counted elsewhere or not at all)."""
    if action == "run_training_batch":
        return "steps"
    if action == "[_TrainingEpochLoop].train_dataloader_next":
        return "data_wait"
    if action == GRAMMAR_ACTION:
        return "grammar_decoding"
    if action == "save_checkpoint":
        return "checkpointing"
    if action.startswith("[Callback]ModelCheckpoint"):
        return None  # its hooks' time is the save_checkpoint inside them
    if action.startswith("[Callback]"):
        return None if action.endswith(_INSIDE_STEP) else "callbacks_and_logging"
    if action == "[_EvaluationLoop].val_next" or "validation" in action:
        return "validation"
    return None


def totals(recorded: Mapping[str, list[float]]) -> dict[str, float]:
    """Seconds per part over everything the profiler recorded so far."""
    sums = dict.fromkeys(PARTS, 0.0)
    for action, durations in recorded.items():
        part = part_of(action)
        if part is not None:
            sums[part] += sum(durations)
    return sums


def resume_report(trained: float, step: int, total_steps: int, epoch: int, max_epochs: int) -> str:
    """The line a resumed run starts with: how far it is, the seconds it has trained, when it ends."""
    line = (
        f"resuming at step {step} of {total_steps} ({step / max(1, total_steps):.0%}), epoch {epoch + 1} of "
        f"{max_epochs}, after {trained / 60:.1f} min of training"
    )
    if step:
        left = (total_steps - step) * trained / step
        line += f"; the plan ends after epoch {max_epochs}, about {left / 60:.0f} min of training from now"
    return line


class TimeSplit(L.Callback):
    """Each epoch's wall time by part (needs ``trainer.profiler`` to be a SimpleProfiler: the
    default in conf/trainer/default.yaml); without it, only the wall time and plates/s."""

    def __init__(self) -> None:
        self.epochs: list[dict] = []
        self._start: float | None = None
        self._before: dict[str, float] = dict.fromkeys(PARTS, 0.0)
        self._samples = 0
        self._restored_partial = 0.0  # seconds of an interrupted epoch before the checkpoint

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if (self.epochs or self._restored_partial) and trainer.is_global_zero:  # restored: say where it stands
            trained = sum(e["wall"] + e.get("seconds_before_resume", 0) for e in self.epochs) + self._restored_partial
            total = int(trainer.estimated_stepping_batches)
            log.info(resume_report(trained, trainer.global_step, total, trainer.current_epoch, trainer.max_epochs))
        self._open_epoch(trainer)

    def state_dict(self) -> dict:
        """The finished epochs, and the seconds of the one under way (a checkpoint by wall time)."""
        partial = time.perf_counter() - self._start if self._start is not None else 0.0
        return {"epochs": self.epochs, "partial_seconds": round(partial + self._restored_partial, 3)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.epochs = list(state_dict.get("epochs", []))
        self._restored_partial = float(state_dict.get("partial_seconds", 0.0))

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Epochs are back to back: one ends where the next starts (the loader fetches an epoch's
        first batch before this hook), so every second of the run is in one of them."""
        if self._samples:
            self._close_epoch(trainer)
            self._open_epoch(trainer)

    def _open_epoch(self, trainer: L.Trainer) -> None:
        self._start, self._samples = time.perf_counter(), 0
        self._before = self._recorded(trainer)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._samples += len(batch["texts"]) if isinstance(batch, Mapping) and "texts" in batch else 0

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close_epoch(trainer)

    def summary(self) -> dict:
        """Per epoch and in total, as metrics.json holds it."""
        total = {part: round(sum(e[part] for e in self.epochs), 3) for part in ("wall", *PARTS, "other")}
        return {"epochs": self.epochs, "total_seconds": total}

    def _recorded(self, trainer: L.Trainer) -> dict[str, float]:
        profiler = getattr(trainer, "profiler", None)
        return totals(profiler.recorded_durations) if isinstance(profiler, SimpleProfiler) else {}

    def _close_epoch(self, trainer: L.Trainer) -> None:
        if self._start is None:
            return
        wall = time.perf_counter() - self._start
        now = self._recorded(trainer)
        parts = {part: round(now.get(part, 0.0) - self._before.get(part, 0.0), 3) for part in PARTS}
        # grammar decoding runs inside validation_step: shown apart, not counted twice
        other = wall - sum(parts.values()) + parts["grammar_decoding"]
        epoch = {"epoch": len(self.epochs), "wall": round(wall, 3), **parts, "other": round(other, 3)}
        if self._restored_partial:  # the epoch was interrupted: its seconds before the stop
            epoch["seconds_before_resume"], self._restored_partial = round(self._restored_partial, 3), 0.0
        epoch["plates_per_s"] = round(self._samples / wall, 1) if wall > 0 else 0.0
        epoch["plates_per_s_in_steps"] = round(self._samples / parts["steps"], 1) if parts["steps"] > 0 else None
        self.epochs.append(epoch)
        self._start = None
        if not trainer.is_global_zero:
            return
        shares = ", ".join(f"{p.replace('_', ' ')} {epoch[p]:.1f}" for p in PARTS if p in now) or "no profiler"
        steps_rate = epoch["plates_per_s_in_steps"]
        log.info(
            "epoch %d took %.1f s: %s, other %.1f; %.0f plates/s%s",
            epoch["epoch"],
            wall,
            shares,
            epoch["other"],
            epoch["plates_per_s"],
            f" (the optimizer steps alone: {steps_rate:.0f})" if steps_rate else "",
        )
        for logger in trainer.loggers:
            logger.log_metrics(
                {f"time/{k}": v for k, v in epoch.items() if k != "epoch" and v is not None}, step=trainer.global_step
            )
