"""Train on the CPU thread count that is fastest now, so a busy machine slows training in
proportion to the cores it has left instead of stalling it.

Two intra-op threads on a two-core machine are fastest when the machine is quiet; as soon as one
other program takes a core, each operator waits at its barrier for the thread the scheduler
parked, and training ran 3.7x slower beside one CPU-bound program and 7x beside two, where one
thread lost only 1.4x and 2.2x (the demo's step; docs/training_speed.md has the tables). Nothing
at start-up tells which case a run is in, and a laptop changes from one to the other as its
user works, so the callback measures: every ``probe_every_s`` seconds of training it times a few
steps on the neighbouring thread counts and keeps the fastest.
"""

from __future__ import annotations

import logging
import statistics
import time

import lightning as L
import torch

log = logging.getLogger(__name__)


def neighbours(current: int, most: int) -> list[int]:
    """The thread counts worth trying next to ``current``: half and double, within 1..``most``."""
    return sorted({max(1, current // 2), min(most, current * 2)} - {current})


class ThreadGovernor(L.Callback):
    """Keep the CPU thread count that trains fastest, re-checking every ``probe_every_s`` seconds.

    Args:
        probe_every_s: seconds of training between checks (seconds, not steps: a stalled run
            takes few steps, and must not wait long for its next check).
        probe_steps: steps timed per thread count in a check (the first after a change is left out).
        min_gain: how much faster (a fraction of the step time) another count must be to switch.
        probe_max_s: seconds of timed steps per thread count at most: a stalled count (two threads
            beside a busy program took 10 s a step) is judged on the steps that fit, not after a
            minute of stalled training.
    """

    def __init__(
        self, probe_every_s: float = 60.0, probe_steps: int = 6, min_gain: float = 0.1, probe_max_s: float = 2.0
    ) -> None:
        self.probe_every_s, self.probe_steps, self.min_gain = probe_every_s, probe_steps, min_gain
        self.probe_max_s = probe_max_s
        self.enabled = False
        self.most = self.threads = torch.get_num_threads()
        self.queue: list[int] = []  # thread counts still to time in this check
        self.timings: dict[int, list[float]] = {}
        self.next_check = 0.0  # perf_counter time of the next check
        self.started = 0.0
        self.switches = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.most = self.threads = torch.get_num_threads()
        self.enabled = pl_module.device.type == "cpu" and self.most > 1
        self.next_check = 0.0  # the first check starts at once

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.enabled:
            self.started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self.started
        if not self.queue:
            if now >= self.next_check:
                self._start_check()
            return
        timed = self.timings.setdefault(self.queue[0], [])
        timed.append(elapsed)
        stalled = len(timed) > 1 and sum(timed[1:]) >= self.probe_max_s
        if len(timed) > self.probe_steps or stalled:  # the first step on a new count warms its thread pool
            self.queue.pop(0)
            if self.queue:
                torch.set_num_threads(self.queue[0])
            else:
                self._decide(trainer, now)

    def _start_check(self) -> None:
        self.timings = {}
        self.queue = [self.threads, *neighbours(self.threads, self.most)]
        torch.set_num_threads(self.queue[0])

    def _decide(self, trainer: L.Trainer, now: float) -> None:
        medians = {n: statistics.median(times[1:]) for n, times in self.timings.items()}
        best = min(medians, key=medians.get)
        if best != self.threads and medians[best] < medians[self.threads] * (1 - self.min_gain):
            log.info(
                "training on %d CPU thread(s) now: %.1f steps/s against %.1f on %d (the machine %s)",
                best,
                1 / medians[best],
                1 / medians[self.threads],
                self.threads,
                "is busy" if best < self.threads else "is free again",
            )
            self.threads = best
            self.switches += 1
        torch.set_num_threads(self.threads)
        self.next_check = now + self.probe_every_s
        for logger in trainer.loggers:
            logger.log_metrics({"train/cpu_threads": self.threads}, step=trainer.global_step)

    def state_dict(self) -> dict:
        return {"threads": self.threads, "switches": self.switches}

    def load_state_dict(self, state_dict: dict) -> None:
        self.switches = int(state_dict.get("switches", 0))
