"""Timing that is fair on a shared machine: candidates measured in interleaved rounds.

The machine a figure was measured on is described by :mod:`anpr.bench.system`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def interleaved_medians(
    fns: dict[str, Callable[[], Any]], warmup: int = 3, repeats: int = 20, rounds: int = 3
) -> dict[str, float]:
    """Median seconds per call of each ``fns`` entry, timed in ``rounds`` interleaved rounds.

    Interleaving spreads a noisy neighbour's load over every candidate instead of whichever one
    happened to run at the time, which matters when comparing runtimes on a shared machine.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        for _ in range(max(0, warmup)):
            fn()
    per_round = max(1, repeats // max(1, rounds))
    for _ in range(max(1, rounds)):
        for name, fn in fns.items():
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}
