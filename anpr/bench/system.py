"""The machine a measurement ran on, described once for every benchmark.

A speed figure means nothing without its CPU, thread count, load and library versions, so each
report opens with them; they come from here so that the inference and the training benchmark
(and ``anpr export --int8``) describe a machine the same way.
"""

from __future__ import annotations

import importlib
import os
import platform
from collections.abc import Sequence
from typing import Any

from anpr.config.hardware import native_bf16_flags, onednn_bf16

# Report key -> the module whose ``__version__`` it shows.
PACKAGE_MODULES = {
    "torch": "torch",
    "lightning": "lightning",
    "albumentations": "albumentations",
    "opencv": "cv2",
    "numpy": "numpy",
    "onnxruntime": "onnxruntime",
    "onnx": "onnx",
}


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


def cpu_bf16_support() -> str:
    """Whether this CPU runs bf16 natively (AVX512-BF16 or AMX), as a phrase for the table."""
    native, onednn = native_bf16_flags(), onednn_bf16()
    if native:
        return f"native ({', '.join(native)}; oneDNN bf16 {'on' if onednn else 'off'})"
    if onednn:
        return "no bf16 instructions, oneDNN emulates bf16 with AVX-512 (expect little or no gain)"
    return "no native bf16 (autocast runs emulated, usually slower than fp32)"


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


def system_info(threads: int | None = None, packages: Sequence[str] = ("torch",)) -> dict[str, Any]:
    """CPU, load, threads and the versions of ``packages`` (keys of :data:`PACKAGE_MODULES`).

    Call it before the benchmark's own work starts: the load average is then other processes'.
    """
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "load_average": load_average(),  # other processes compete for the CPU when this nears the core count
        "logical_cpus": os.cpu_count(),
        "cpu_int8_features": cpu_int8_features(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16": cpu_bf16_support(),
        "threads": threads,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    for name in packages:
        info[name] = importlib.import_module(PACKAGE_MODULES[name]).__version__
    return info
