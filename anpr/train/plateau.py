"""When training leaves the CTC plateau: the first optimizer step at which the model reads plates.

A CTC model first learns to emit only blanks and then sits on a plateau, its loss barely moving
and every read empty, until it finds the alignment. How many steps that takes is the largest
run-to-run factor of a short training, so it is measured on every run:

``train/plateau_exit_step`` is the first optimizer step at which greedy reads of the last
``window`` training batches (augmented, as trained on) are exactly right for at least
``threshold`` of their plates. On the plateau that share is exactly zero; once the alignment is
found it climbs within a few dozen steps, so the definition is insensitive to its two numbers.
"""

from __future__ import annotations

import logging
from collections import deque

import lightning as L

from anpr.decoding.ctc import greedy_decode

log = logging.getLogger(__name__)

METRIC = "train/plateau_exit_step"


class PlateauExit(L.Callback):
    """Logs ``train/plateau_exit_step`` once it is reached; decodes nothing after that.

    Reads the detached logits the module returns from ``training_step`` (``outputs["logits"]``).
    ``stop_when_found`` ends training there, and ``give_up_after`` steps on the plateau too:
    measuring the plateau this way keeps the run's learning-rate schedule as a full run plans it.
    """

    def __init__(
        self, window: int = 20, threshold: float = 0.01, stop_when_found: bool = False, give_up_after: int | None = None
    ) -> None:
        if window < 1 or not 0 < threshold <= 1:
            raise ValueError(f"window must be >= 1 and threshold in (0, 1], got {window}, {threshold}")
        self.window, self.threshold = window, threshold
        self.stop_when_found, self.give_up_after = stop_when_found, give_up_after
        self.recent: deque[tuple[int, int]] = deque(maxlen=window)
        self.exit_step: int | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.exit_step is not None:
            return
        logits = outputs.get("logits") if isinstance(outputs, dict) else None
        if logits is None:
            return
        reads = greedy_decode(pl_module.charset, logits.float().softmax(-1).cpu().numpy())
        right = sum(r.text == t for r, t in zip(reads, batch["texts"]))
        self.recent.append((right, len(reads)))
        right_total = sum(r for r, _ in self.recent)
        seen_total = sum(n for _, n in self.recent)
        if len(self.recent) == self.window and right_total >= self.threshold * seen_total:
            self.exit_step = int(trainer.global_step)
            if trainer.is_global_zero:
                log.info(
                    "left the CTC plateau at optimizer step %d (%d of the last %d plates read right)",
                    self.exit_step,
                    right_total,
                    seen_total,
                )
            trainer.should_stop = trainer.should_stop or self.stop_when_found
        elif self.give_up_after is not None and trainer.global_step >= self.give_up_after:
            log.info("still on the CTC plateau after %d optimizer steps: stopping", trainer.global_step)
            trainer.should_stop = True
        self._log(pl_module)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._log(pl_module)  # keeps the value among the run's final metrics (metrics.json)

    def _log(self, pl_module) -> None:
        if self.exit_step is not None:
            pl_module.log(METRIC, float(self.exit_step), on_step=False, on_epoch=True, sync_dist=False, reduce_fx="max")

    def state_dict(self) -> dict:
        return {"exit_step": self.exit_step}

    def load_state_dict(self, state_dict: dict) -> None:
        self.exit_step = state_dict.get("exit_step")
