"""Timing helpers and a description of the machine, for figures that state their conditions."""

from __future__ import annotations

import os
import platform
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


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_int8_features() -> list[str]:
    """CPU flags that decide int8 speed (VNNI dot products above all)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return [flag for flag in wanted if flag in flags]


def load_average() -> float | None:
    """1-minute load average, or None where the OS has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def load_note(load: float | None, cpus: int | None) -> list[str]:
    """The benchmark tables' line on the machine's load when the run started (none if unknown)."""
    if load is None:
        return []
    busy = " (at or above the CPU count: other processes competed for the cores)" if load >= (cpus or 1) else ""
    return [f"- load average (1 min) when the run started: {load:.1f}{busy}"]


def system_info(threads: int | None = None) -> dict[str, Any]:
    import onnx
    import onnxruntime
    import torch

    load = load_average()
    return {
        "cpu": cpu_model(),
        "load_average": load,  # other processes compete for the CPU when this nears the core count
        "cpu_int8_features": cpu_int8_features(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
    }
