"""Plan the learning-rate schedule for the time a run has, not for epochs a time cap would cut.

A one-cycle schedule is fixed at the start for ``max_epochs``. When ``trainer.max_time`` stops the
run earlier (a slower machine, a busy one), it stops before the learning rate has annealed, and
the last epochs it did run were trained at a high rate: the model is worse than a shorter plan
would have made it. After the first epoch, whose duration (training and validation) is then
known, :class:`FitScheduleToTime` works out how many epochs fit in the time left and, if fewer
than planned, shortens the run and its schedule to end with them, so it anneals before the cap.
It checks again after every epoch: a slowdown that passes (another program on the machine
finishing) gives the epochs back, up to those configured, so a busy first epoch does not make a
one-epoch run.
"""

from __future__ import annotations

import logging
import math

import lightning as L
from lightning.pytorch.callbacks import Timer

log = logging.getLogger(__name__)


def rescale_one_cycle(scheduler, total_steps: int) -> None:
    """Make a OneCycleLR end after ``total_steps`` steps, its phases scaled alike.

    Phase ends are linear in the total (``pct_start * total - 1`` ...), so each is rescaled
    around the same offsets; the step count so far is untouched (a longer plan mid-anneal raises
    the rate a little, to where the longer schedule would be at this step).
    """
    old = scheduler.total_steps
    if total_steps == old:
        return
    for phase in scheduler._schedule_phases:
        phase["end_step"] = (phase["end_step"] + 1) * total_steps / old - 1
    scheduler.total_steps = int(total_steps)


def epochs_that_fit(epochs_done: int, epoch_seconds: float, seconds_left: float, margin: float) -> int:
    """Epochs in all, at ``epoch_seconds`` an epoch (the last one's: the pace now, not an average
    that a slow start drags down), that end ``margin`` (a fraction) before the time runs out."""
    return epochs_done + max(0, math.floor(seconds_left * (1 - margin) / max(epoch_seconds, 1e-9)))


class FitScheduleToTime(L.Callback):
    """After each epoch, fit ``max_epochs`` and the one-cycle schedule to ``max_time`` at the pace so far.

    Never plans more epochs than configured. Does nothing without ``trainer.max_time``. The plan is
    kept in checkpoints, so a resumed run continues it.
    """

    def __init__(self, margin: float = 0.04) -> None:
        self.margin = margin
        self.configured_epochs: int | None = None
        self.planned_epochs: int | None = None
        self.elapsed_at_last_epoch = 0.0  # the timer's training seconds when the last epoch ended

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.planned_epochs is not None:  # resumed: the plan as it stood
            trainer.fit_loop.max_epochs = self.planned_epochs
        elif trainer.max_epochs not in (None, -1):
            self.configured_epochs = int(trainer.max_epochs)
            timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
            budget = timer.time_remaining("train") if timer is not None else None
            if budget is not None and trainer.global_step == 0:  # a resumed run says where it stands instead
                log.warning(
                    "TIME BUDGET: %.1f min of training, at most %d epochs; after the first epoch the run plans "
                    "the epochs that fill the budget at the pace it measures (fewer on a slower machine)",
                    budget / 60,
                    self.configured_epochs,
                )

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
        if timer is None or self.configured_epochs is None:
            return
        done = trainer.current_epoch + 1
        seconds_left = timer.time_remaining("train")
        if seconds_left is None:
            return
        elapsed = timer.time_elapsed("train")
        epoch_seconds, self.elapsed_at_last_epoch = elapsed - self.elapsed_at_last_epoch, elapsed
        fit = epochs_that_fit(done, epoch_seconds, seconds_left, self.margin)
        strategy = getattr(trainer, "strategy", None)
        if strategy is not None:  # under DDP every process must plan the same epochs: rank 0's
            fit = strategy.broadcast(fit, src=0)
        before = int(trainer.max_epochs)
        plan = min(self.configured_epochs, max(done, fit))
        if plan > before:  # grow only if the epochs still fit at a 10% slower pace: no back and forth
            plan = max(before, min(plan, epochs_that_fit(done, epoch_seconds * 1.1, seconds_left, self.margin)))
        if plan == before:
            return
        self.planned_epochs = plan
        trainer.fit_loop.max_epochs = plan
        steps = int(trainer.estimated_stepping_batches)
        for config in trainer.lr_scheduler_configs:
            if hasattr(config.scheduler, "_schedule_phases"):
                rescale_one_cycle(config.scheduler, steps)
        pace = epoch_seconds / 60
        if plan < before:
            log.warning(
                "TIME BUDGET: at this pace (%.1f min an epoch) max_time leaves room for %d epochs, not %d: the run "
                "and its learning-rate schedule now end after epoch %d, so it anneals before the time cap. If "
                "the machine is busy, the plan grows back when the pace recovers (trainer.max_time and "
                "max_epochs change the budget)",
                pace,
                plan,
                before,
                plan,
            )
        else:
            log.warning(
                "TIME BUDGET: at this pace (%.1f min an epoch) more epochs fit: the run and its schedule now end "
                "after epoch %d instead of %d (at most %d)",
                pace,
                plan,
                before,
                self.configured_epochs,
            )

    def state_dict(self) -> dict:
        return {
            "planned_epochs": self.planned_epochs,
            "configured_epochs": self.configured_epochs,
            "elapsed_at_last_epoch": self.elapsed_at_last_epoch,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.planned_epochs = state_dict.get("planned_epochs")
        self.configured_epochs = state_dict.get("configured_epochs", self.planned_epochs)
        self.elapsed_at_last_epoch = float(state_dict.get("elapsed_at_last_epoch", 0.0))
