"""Timing helpers and a description of the machine, for figures that state their conditions."""

from __future__ import annotations

import os
import platform
import time
from typing import Any, Callable

import numpy as np


def median_seconds(fn: Callable[[], Any], warmup: int = 3, repeats: int = 20) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(max(0, warmup)):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


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


def system_info(threads: int | None = None) -> dict[str, Any]:
    import onnx
    import onnxruntime
    import torch

    return {
        "cpu": cpu_model(),
        "cpu_int8_features": cpu_int8_features(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
    }
