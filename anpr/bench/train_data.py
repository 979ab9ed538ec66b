"""Part ``data`` of the training benchmark: the input pipeline alone, and where a worker's time goes.

Whether the loader can keep a GPU busy is decided here: loader rates with 0 and N workers, from
files and from the in-memory cache, and the cost of every stage of a sample on one thread.
"""

from __future__ import annotations

import contextlib
import copy
import os
import statistics
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from anpr.bench.train_report import DataRow, StageCost
from anpr.bench.train_settings import CACHE_AUG, CACHE_NO_AUG, FILES_AUG, FILES_NO_AUG, PIPELINES, TrainSettings
from anpr.bench.train_setup import input_size
from anpr.config.compose import CONF_DIR


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
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


def loader_rate(dataset, batch: int, workers: int, timed_batches: int, seed: int = 0) -> float:
    """Images/s a ``DataLoader`` delivers in steady state (worker start-up excluded)."""
    import torch
    from torch.utils.data import DataLoader, RandomSampler

    from anpr.data.dataset import collate_plates
    from anpr.data.workers import usable_workers

    workers = usable_workers(workers)  # 0 where a long TMPDIR would hang worker processes
    warm = workers + 1  # every worker has delivered a batch: start-up is behind us
    total = warm + timed_batches
    sampler = RandomSampler(
        dataset, replacement=True, num_samples=total * batch, generator=torch.Generator().manual_seed(seed)
    )
    loader = DataLoader(
        dataset, batch_size=batch, sampler=sampler, num_workers=workers, collate_fn=collate_plates, drop_last=True
    )
    start = end = 0.0
    for index, _ in enumerate(loader):
        if index == warm - 1:
            start = time.perf_counter()
        elif index == total - 1:
            end = time.perf_counter()
    return timed_batches * batch / (end - start)


def time_data(
    datamodule, name: str, settings: TrainSettings, status: Callable[[str], Any], notes: list[str]
) -> tuple[list[DataRow], list[StageCost]]:
    """Loader images/s per pipeline with 0 and ``settings.workers`` workers (the median over
    interleaved rounds) and the per-stage costs; the cache's build time and size go to ``notes``."""
    from anpr.data.cache import CachedPlateDataset, decode_all

    train_set = datamodule.train_set
    if train_set.augment is None:
        notes.append(f"augmentation `{settings.augmentation}` has no transforms: the augmented rows are not")
    status(f"{name}: decoding {len(train_set)} plates into the in-memory cache")
    threads = os.cpu_count() or 1
    started = time.perf_counter()
    images = decode_all(train_set, threads)
    seconds = time.perf_counter() - started
    pre = datamodule.preprocessor
    per_plate = pre.image_height * pre.image_width * 3
    notes.append(
        f"{name}: in-memory cache built in {seconds:.2f} s ({len(train_set) / seconds:.0f} plates/s on "
        f"{threads} threads), {per_plate / 1e3:.0f} KB a plate: 100k plates = {per_plate * 1e5 / 1e9:.1f} GB"
    )
    cached = CachedPlateDataset.from_dataset(train_set, images=images)
    stages = time_stages(train_set, images, name, settings.batch, settings.stage_plates)
    datasets = {
        FILES_NO_AUG: _without_augmentation(train_set),
        FILES_AUG: train_set,
        CACHE_AUG: cached,
        CACHE_NO_AUG: _without_augmentation(cached),
    }
    worker_counts = [0] + ([settings.workers] if settings.workers > 0 else [])
    jobs = [(pipeline, workers) for workers in worker_counts for pipeline in PIPELINES]
    rates: dict[tuple[str, int], list[float]] = {job: [] for job in jobs}
    for round_index in range(settings.rounds):
        status(f"{name}: timing the data pipeline (round {round_index + 1}/{settings.rounds})")
        for pipeline, workers in jobs if round_index % 2 == 0 else list(reversed(jobs)):
            context = one_thread() if workers == 0 else contextlib.nullcontext()
            with context:
                rates[(pipeline, workers)].append(
                    loader_rate(datasets[pipeline], settings.batch, workers, settings.data_batches, round_index)
                )
    size = input_size(datamodule)
    rows = [
        DataRow(name, size, settings.batch, pipeline, workers, statistics.median(rates[(pipeline, workers)]))
        for pipeline, workers in jobs
    ]
    return rows, stages


def time_stages(train_set, images: np.ndarray, name: str, batch: int, plates: int) -> list[StageCost]:
    """Microseconds per plate of every step of the pipeline, each timed alone on one thread."""
    import torch

    from anpr.data.dataset import collate_plates

    count = max(1, min(plates, len(train_set)))
    pre = train_set.preprocessor

    def per_plate(fn: Callable[[int], Any]) -> float:
        best = float("inf")
        for _ in range(2):  # the better of two passes: the first also warms caches
            start = time.perf_counter()
            for index in range(count):
                fn(index)
            best = min(best, time.perf_counter() - start)
        return best / count * 1e6

    with one_thread():
        raw = [train_set.load_rgb(i) for i in range(count)]
        resized = [pre.resize(image) for image in raw]
        stages = [
            StageCost(name, "read + decode the file", per_plate(train_set.load_rgb)),
            StageCost(name, "resize to the model's input", per_plate(lambda i: pre.resize(raw[i]))),
            StageCost(name, "copy out of the in-memory cache", per_plate(lambda i: images[i].copy())),
        ]
        if train_set.augment is not None:
            for transform in getattr(train_set.augment, "compose", SimpleNamespace(transforms=[])).transforms:
                always = copy.deepcopy(transform)
                always.p = 1.0
                stages.append(
                    StageCost(
                        name,
                        f"augmentation: {type(transform).__name__}",
                        per_plate(lambda i, t=always: t(image=resized[i])["image"]),
                        float(getattr(transform, "p", 1.0)),
                    )
                )
            stages.append(
                StageCost(name, "augmentation, all (as configured)", per_plate(lambda i: train_set.augment(resized[i])))
            )
        stages.append(
            StageCost(
                name,
                "to a CHW uint8 tensor (normalized later, on the device)",
                per_plate(lambda i: torch.from_numpy(pre.to_chw_uint8(resized[i]))),
            )
        )
        samples = [
            {
                "image": torch.from_numpy(pre.to_chw_uint8(image)),
                "target": torch.tensor(train_set.targets[i]),
                "text": train_set.records[i].text,
                "index": i,
                "layout": "",
            }
            for i, image in enumerate(resized)
        ]
        batches = [samples[a : a + batch] for a in range(0, count, batch)]
        collate_us = per_plate(lambda i: collate_plates(batches[i // batch]) if i % batch == 0 else None)
        stages.append(StageCost(name, f"collate (batches of {batch})", collate_us))
        device_us = device_augmentation_us(batches[0], batch)
        if device_us is not None:
            stages.append(
                StageCost(name, f"`seed_on_device` augmentation, kornia on this CPU (batches of {batch})", device_us)
            )
    return stages


def device_augmentation_us(samples: list[dict], batch: int, rounds: int = 5) -> float | None:
    """Microseconds per plate of the `seed_on_device` transforms run here (a GPU runs them in
    its own time, not the loader's); None where the config or kornia is missing."""
    import torch
    from omegaconf import OmegaConf

    from anpr.data.dataset import collate_plates

    config = CONF_DIR / "augmentation" / "seed_on_device.yaml"
    try:
        from anpr.data.device_augment import DeviceAugmenter

        augment = DeviceAugmenter(OmegaConf.to_container(OmegaConf.load(config).device_transforms))
    except (ImportError, OSError):
        return None
    pixels = collate_plates(samples)["images"].float() / 255.0
    with torch.no_grad():
        augment(pixels)
        started = time.perf_counter()
        for _ in range(rounds):
            augment(pixels)
    return (time.perf_counter() - started) / (rounds * len(samples)) * 1e6


def _without_augmentation(dataset):
    plain = copy.copy(dataset)
    plain.augment = None
    return plain
