"""What the training benchmark measures with: its settings and the names of what it compares.

The names below are the row labels of the printed tables, so the tests and the report refer to
the same strings the timers write.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

PARTS = ("loop", "model", "data")

PLAIN = "plain PyTorch loop"
AS_TRAINED = "Lightning, as in training"
NO_PROGRESS_BAR = "Lightning, as in training minus progress bar"
NO_LOGGER = "Lightning, as in training minus logger + LR monitor"
BARE = "Lightning, bare Trainer"
BARE_NO_LOG = "Lightning, bare Trainer, self.log a no-op"
LOOP_VARIANTS = (PLAIN, AS_TRAINED, BARE)
ABLATIONS = (NO_PROGRESS_BAR, NO_LOGGER, BARE_NO_LOG)

FILES_NO_AUG = "files: decode + resize"
FILES_AUG = "files: decode + resize + augmentation"
CACHE_AUG = "in-memory cache + augmentation"
CACHE_NO_AUG = "in-memory cache, no augmentation"
# What the loader workers do with augmentation=seed_on_device: the CACHE_NO_AUG measurement.
CACHE_DEVICE_AUG = "in-memory cache, augmentation on the GPU (`seed_on_device`)"
PIPELINES = (FILES_NO_AUG, FILES_AUG, CACHE_AUG, CACHE_NO_AUG)
DEVICE_AUG_SOURCE = {CACHE_DEVICE_AUG: CACHE_NO_AUG}

# An RTX 3060-class card: about 25 TFLOPS dense fp16 tensor-core peak with fp32 accumulation
# (what autocast uses), 51 with fp16 accumulation; 13 TFLOPS effective is about half of the
# former, a quarter of the latter. Small convolutions and a BiLSTM rarely do better, so the
# estimate errs towards a fast GPU, that is towards asking more of the loader.
DEFAULT_GPU_TFLOPS = 13.0
GPU12GB_WORKERS = 8  # conf/hardware/gpu12gb.yaml data.num_workers


@dataclass
class TrainSettings:
    batch: int = 64  # images per step for the loops, the model and the loader
    warmup: int = 2  # steps per run (loops) or per variant (model alone) left out of the timing
    steps: int = 10  # timed steps per loop run: a multiple of log_every_n_steps (10) holds its logging
    model_steps: int = 5  # timed steps per variant and round, model alone
    rounds: int = 2  # interleaved rounds, order reversed every other round
    plates: int = 1024  # synthetic plates written for the data pipeline
    data_batches: int = 8  # timed batches per loader measurement
    stage_plates: int = 256  # plates for the per-stage cost breakdown of the pipeline
    workers: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))
    threads: int | None = None  # torch intra-op threads for the model (None: torch's default)
    parts: Sequence[str] = PARTS
    ablations: bool = False  # also time Lightning minus one feature at a time
    compile: bool = False  # also time torch.compile'd variants (slow to compile)
    augmentation: str = "seed"  # conf/augmentation/<name>.yaml
    gpu_tflops: float = DEFAULT_GPU_TFLOPS
    gpu_workers: int = GPU12GB_WORKERS
    distinct_batches: int = 8  # the loops cycle through this many augmented batches
    # Processes rendering the synthetic plates (the smoke run renders a few in-process).
    render_workers: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))

    @classmethod
    def configured(cls, smoke: bool = False, threads: int | None = None, **fields) -> TrainSettings:
        """The measuring settings (or :meth:`smoke`'s) with ``threads`` and ``fields``."""
        return replace(cls.smoke(threads) if smoke else cls(threads=threads), **fields)

    def with_overrides(self, overrides: dict) -> TrainSettings:
        """These settings with the fields in ``overrides`` replaced (sequences become tuples)."""
        return replace(self, **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})

    @classmethod
    def smoke(cls, threads: int | None = None) -> TrainSettings:
        """Tiny sizes and few steps: checks the machinery in seconds, measures nothing."""
        return cls(
            batch=4,
            warmup=1,
            steps=2,
            model_steps=2,
            rounds=1,
            plates=24,
            data_batches=2,
            stage_plates=8,
            workers=1,
            threads=threads,
            distinct_batches=2,
            render_workers=1,
        )
