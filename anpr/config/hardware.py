"""What this machine's CPU can do, for the configs' automatic choices and the benchmarks."""

from __future__ import annotations

import functools


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return frozenset(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        return frozenset()


def native_bf16_flags() -> list[str]:
    """The CPU's bf16 instruction sets (AMX, AVX512-BF16); empty if it only emulates bf16."""
    return [flag for flag in ("amx_bf16", "avx512_bf16") if flag in cpu_flags()]


def onednn_bf16() -> bool:
    """Whether PyTorch's oneDNN backend runs bf16 kernels on this CPU."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_runs_bf16_fast() -> bool:
    """bf16 autocast pays off only with native instructions; emulated bf16 is slower than fp32."""
    return bool(native_bf16_flags()) and onednn_bf16()
