"""Benchmark mode ``train``: can the data pipeline keep up with the model, here and on a GPU?

Nothing else in the project answers this, so it is all this benchmark measures, per model config
(``conf/model/<name>.yaml``, random weights), with the config and module built as training builds
them (:func:`anpr.config.compose.compose_train`, :func:`anpr.train.run.build_module`):

the model
    A training step alone (forward, CTC loss in float32, backward, AdamW step) on random
    tensors: the fastest the network trains on this CPU, with channels_last and bf16 autocast
    on/off (and torch.compile with ``compile=True``), the median over interleaved rounds.
the loader
    What one loader worker delivers, on one thread, from synthetic plates written to a temporary
    rec-format dataset: files (decode + resize + augmentation), the in-memory cache of decoded
    crops (:mod:`anpr.data.cache`) + augmentation, and the cache alone, which is all the workers
    do when ``augmentation=seed_on_device`` moves the augmentation onto the GPU.

:mod:`anpr.bench.train_report` divides the one-worker rates by the model's rate here, and, times
the ``gpu12gb`` profile's 8 workers, by a GPU's rate estimated from FLOPs: images/s = effective
FLOP/s / (3 x forward FLOPs per plate), the backward costing about twice the forward.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from anpr.bench.system import system_info
from anpr.bench.train_report import ModelCost, ModelRow, PipelineRow, TrainResult

FILES_AUG = "files: decode + resize + augmentation"
CACHE_AUG = "in-memory cache + augmentation"
# Measured as the cache without augmentation: what the workers are left with.
CACHE_DEVICE_AUG = "in-memory cache, augmentation on the GPU (`seed_on_device`)"
PIPELINES = (FILES_AUG, CACHE_AUG, CACHE_DEVICE_AUG)


def _cores() -> int:
    return max(1, min(8, os.cpu_count() or 1))


@dataclass
class TrainSettings:
    batch: int = 64  # images per model step and per loader batch
    warmup: int = 2  # untimed model steps / loader batches per variant
    steps: int = 5  # timed model steps per variant and round
    rounds: int = 2  # interleaved rounds (a noisy neighbour slows every variant alike)
    plates: int = 1024  # synthetic plates written for the loader
    data_batches: int = 8  # timed loader batches per pipeline and round
    threads: int | None = None  # torch intra-op threads for the model (None: torch's default)
    compile: bool = False  # also time torch.compile'd variants (slow to compile)
    augmentation: str = "seed"  # conf/augmentation/<name>.yaml
    # An RTX 3060-class card: about half its ~25 TFLOPS dense fp16 tensor-core peak with fp32
    # accumulation. Small convolutions and a BiLSTM rarely do better, so the estimate errs towards
    # a fast GPU, that is towards asking more of the loader.
    gpu_tflops: float = 13.0
    gpu_workers: int = 8  # conf/hardware/gpu12gb.yaml data.num_workers
    render_workers: int = field(default_factory=_cores)  # processes rendering the plates

    @classmethod
    def configured(cls, smoke: bool = False, threads: int | None = None, **fields) -> TrainSettings:
        """The measuring settings (or the smoke run's tiny ones) with ``threads`` and ``fields``."""
        sizes = dict(batch=4, warmup=1, steps=2, rounds=1, plates=24, data_batches=2, render_workers=1)
        return replace(cls(threads=threads), **(sizes if smoke else {}), **fields)

    def with_overrides(self, overrides: dict) -> TrainSettings:
        """These settings with the fields in ``overrides`` replaced."""
        return replace(self, **overrides)


def run_train(
    model_configs: Sequence[str] = ("crnn_small",),
    settings: TrainSettings | None = None,
    on_status: Callable[[str], Any] | None = None,
) -> TrainResult:
    """The model and loader rates of every model config; see the module docstring."""
    import torch

    from anpr.data.synth import write_dataset

    settings = settings or TrainSettings()
    if not model_configs:
        raise ValueError("name at least one model config")
    # Before our own work starts, so that the load average is other processes'.
    system = system_info(settings.threads, ("torch", "lightning", "albumentations", "opencv", "numpy"))
    status = on_status or (lambda message: None)
    if settings.threads:
        torch.set_num_threads(int(settings.threads))
    result = TrainResult(settings, system)
    with tempfile.TemporaryDirectory(prefix="anpr-bench-train-") as tmp:
        status(f"writing {settings.plates} synthetic plates")
        dataset_dir = write_dataset(
            Path(tmp) / "plates", settings.plates, seed=0, workers=settings.render_workers, progress=False
        )
        for name in model_configs:
            cfg, datamodule = training_setup(name, settings, dataset_dir, Path(tmp) / name)
            result.costs.append(model_cost(cfg, datamodule, name))
            result.models += time_model(cfg, datamodule, name, settings, status, result.notes)
            result.pipelines += time_pipelines(datamodule, name, settings, status, result.notes)
    return result


def training_setup(model: str, settings: TrainSettings, dataset_dir: Path, work_dir: Path):
    """``conf/train.yaml`` for ``model`` on the CPU profile, reading ``dataset_dir``, and its data
    module set up for fitting, exactly as training makes them."""
    from anpr.config.compose import compose_train
    from anpr.config.contract import contract_from_config
    from anpr.train.run import build_data

    cfg = compose_train(
        [
            f"model={model}",
            "hardware=cpu",
            "data=rec",
            f"augmentation={settings.augmentation}",
            f"data.images_dir={dataset_dir / 'images'}",
            f"data.labels_file={dataset_dir / 'labels.txt'}",
            f"data.layouts_file={dataset_dir / 'layout.tsv'}",
            "data.num_workers=0",
            f"paths.output_dir={work_dir / 'run'}",
            f"paths.data_dir={work_dir / 'data'}",
            f"batch_size={settings.batch}",
            f"max_micro_batch={settings.batch}",
        ]
    )
    datamodule = build_data(cfg, contract_from_config(cfg))
    with contextlib.redirect_stdout(sys.stderr):  # the Markdown goes to stdout
        datamodule.setup("fit")
    return cfg, datamodule


def training_module(cfg, datamodule, **performance):
    """The LightningModule as training builds it, ``performance`` options overridden."""
    import torch
    from omegaconf import OmegaConf

    from anpr.config.compose import run_settings
    from anpr.train.run import build_module

    torch.manual_seed(int(cfg.seed))
    return build_module(run_settings(OmegaConf.merge(cfg, {"performance": performance})), datamodule.contract)


def input_size(datamodule) -> str:
    pre = datamodule.preprocessor
    return f"{pre.image_height}x{pre.image_width}"


def model_cost(cfg, datamodule, name: str) -> ModelCost:
    """Parameters and forward GFLOPs per plate, what the GPU estimate is made from."""
    from anpr.models.complexity import count_parameters, gflops_per_plate

    net, pre = training_module(cfg, datamodule).net, datamodule.preprocessor
    return ModelCost(
        name, input_size(datamodule), count_parameters(net), gflops_per_plate(net, pre.image_height, pre.image_width)
    )


def time_model(cfg, datamodule, name: str, settings: TrainSettings, status, notes: list[str]) -> list[ModelRow]:
    """Images/s of a training step per (channels_last, bf16, compiled) variant; a torch.compile
    that fails becomes a note instead of a row."""
    import torch

    from anpr.inference.timing import interleaved_medians

    variants = [(cl, bf16, False) for bf16 in (False, True) for cl in (False, True)]
    if settings.compile:
        variants += [(False, False, True), (False, True, True)]
    steps: dict[tuple[bool, bool, bool], Callable[[], None]] = {}
    for channels_last, bf16, compiled in variants:
        module = training_module(cfg, datamodule, channels_last=channels_last, compile=compiled)
        module.setup("fit")  # applies channels_last and compile, as the Trainer would
        module.train()
        # The module's own AdamW; configure_optimizers asks the trainer only for the step count.
        module._trainer = SimpleNamespace(estimated_stepping_batches=1000)
        optimizer = module.configure_optimizers()["optimizer"]
        module._trainer = None
        images, batch = _random_batch(datamodule, module, settings.batch)

        def step(module=module, optimizer=optimizer, images=images, batch=batch, bf16=bf16) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = module.compute_loss(module(images), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        if compiled:
            status(f"{name}: compiling (bf16={bf16})")
            try:
                started = time.perf_counter()
                step()
                notes.append(
                    f"{name}: torch.compile's first step (bf16={bf16}) took {time.perf_counter() - started:.0f} s"
                )
            except Exception as err:  # a missing compiler must not cost the other figures
                notes.append(f"{name}: torch.compile failed ({type(err).__name__}: {str(err).splitlines()[0]})")
                continue
        steps[(channels_last, bf16, compiled)] = step
    status(f"{name}: timing the model alone ({len(steps)} variants)")
    medians = interleaved_medians(steps, settings.warmup, settings.steps * settings.rounds, settings.rounds)
    size = input_size(datamodule)
    return [ModelRow(name, size, settings.batch, *variant, settings.batch / s) for variant, s in medians.items()]


def _random_batch(datamodule, module, batch: int) -> tuple[Any, dict]:
    """Images and CTC targets of the right shapes: the model's cost does not depend on content."""
    import torch

    generator = torch.Generator().manual_seed(0)
    pre = datamodule.preprocessor
    images = torch.randn(batch, 3, pre.image_height, pre.image_width, generator=generator)
    length = max(1, min(10, (int(getattr(module.net, "time_steps", 0)) or 16) // 2))
    targets = torch.randint(1, module.charset.num_classes, (batch * length,), generator=generator)
    return images, {"targets": targets, "target_lengths": torch.full((batch,), length, dtype=torch.long)}


def time_pipelines(datamodule, name: str, settings: TrainSettings, status, notes: list[str]) -> list[PipelineRow]:
    """Images/s one loader worker delivers per pipeline: random batches of samples + collate, on
    one thread in this process (as a worker runs), the median over interleaved rounds."""
    import numpy as np

    from anpr.data.cache import CachedPlateDataset, decode_all
    from anpr.data.dataset import collate_plates
    from anpr.inference.timing import interleaved_medians

    train_set = datamodule.train_set
    if train_set.augment is None:
        notes.append(f"augmentation `{settings.augmentation}` has no CPU transforms: the rows with it have none")
    status(f"{name}: decoding {len(train_set)} plates into the in-memory cache")
    cached = CachedPlateDataset.from_dataset(train_set, images=decode_all(train_set, os.cpu_count() or 1))
    bare = copy.copy(cached)
    bare.augment = None
    datasets = {FILES_AUG: train_set, CACHE_AUG: cached, CACHE_DEVICE_AUG: bare}
    rng = np.random.default_rng(0)

    def batch_of(dataset) -> Callable[[], Any]:
        return lambda: collate_plates([dataset[int(i)] for i in rng.integers(len(dataset), size=settings.batch)])

    status(f"{name}: timing the loader ({len(datasets)} pipelines)")
    with _one_thread():
        medians = interleaved_medians(
            {pipeline: batch_of(dataset) for pipeline, dataset in datasets.items()},
            settings.warmup,
            settings.data_batches * settings.rounds,
            settings.rounds,
        )
    size = input_size(datamodule)
    return [PipelineRow(name, size, settings.batch, pipeline, settings.batch / s) for pipeline, s in medians.items()]


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """torch and OpenCV on one thread, as in a loader worker (torch sets 1 there itself)."""
    import cv2
    import torch

    torch_threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        cv2.setNumThreads(cv2_threads)
