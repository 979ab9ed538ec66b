"""An opt-in in-memory cache of decoded plate crops, so loader workers only augment.

Decoding a JPEG/PNG and resizing it to the model's input size is done once, when the cache is
built, into one contiguous ``(N, H, W, 3)`` uint8 array (a 48x192 crop is 27 KB: 100k plates
are 2.7 GB; 64x256 is 48 KB: 4.9 GB). Every epoch after that a sample is a copy out of the
array, then the usual augmentation and normalization: the same tensors as reading the files
(the resize is deterministic), at a fraction of the cost.

The array is shared with the DataLoader's worker processes without copying when they are
forked (the Linux default): nothing writes to it, so its pages stay shared. With the ``spawn``
or ``forkserver`` start methods each worker would receive its own copy; and under DDP each
process builds its own cache. Mind the memory: the training set plus the validation set,
per process. ``data.in_memory_cache=auto`` builds it only where that takes at most a quarter of
the memory available when training starts (:func:`cache_fits`).
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from anpr.data.dataset import PlateDataset

log = logging.getLogger(__name__)

AUTO_MEMORY_SHARE = 0.25  # `auto` caches when the crops take at most this share of available memory


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (Linux ``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def cache_fits(
    crops: int, height: int, width: int, processes: int = 1, available: int | None = None
) -> tuple[bool, str]:
    """Whether ``crops`` decoded crops (per process) fit ``data.in_memory_cache=auto``'s share of
    the available memory, and a sentence saying what was weighed."""
    need = crops * height * width * 3 * max(1, processes)
    available = available_memory() if available is None else available
    if available is None:
        return False, f"{need / 1e6:.0f} MB needed, available memory unknown"
    fits = need <= AUTO_MEMORY_SHARE * available
    per = f"{crops} crops x {max(1, processes)} process(es)"
    return fits, f"{need / 1e6:.0f} MB for {per}, {available / 1e9:.1f} GB available"


def decode_all(dataset: PlateDataset, threads: int | None = None) -> np.ndarray:
    """Every image of ``dataset`` decoded and resized to model size, as ``(N, H, W, 3)`` uint8 RGB.

    OpenCV releases the GIL while decoding and resizing, so threads use every core. A bad file
    raises the dataset's own error naming its labels-file line.
    """
    pre = dataset.preprocessor
    images = np.empty((len(dataset), pre.image_height, pre.image_width, 3), np.uint8)

    def fill(index: int) -> None:
        images[index] = pre.resize(dataset.load_rgb(index))

    workers = max(1, threads or os.cpu_count() or 1)
    if workers == 1 or len(dataset) < 2:
        for index in range(len(dataset)):
            fill(index)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(fill, range(len(dataset)), chunksize=64):
                pass
    return images


class CachedPlateDataset(PlateDataset):
    """A :class:`PlateDataset` whose images come from a decoded, resized in-memory array.

    Built from an existing dataset with :meth:`from_dataset` (records, targets, augmentation and
    preprocessing are shared with it). ``load_rgb`` returns the cached crop, already at model size,
    so the dataset's resize leaves it as it is and only augmentation and normalization remain.
    """

    images: np.ndarray

    @classmethod
    def from_dataset(
        cls, dataset: PlateDataset, threads: int | None = None, images: np.ndarray | None = None
    ) -> CachedPlateDataset:
        if images is None:
            images = decode_all(dataset, threads)
        pre = dataset.preprocessor
        expected = (len(dataset), pre.image_height, pre.image_width, 3)
        if images.shape != expected or images.dtype != np.uint8:
            raise ValueError(f"cache holds {images.dtype} {images.shape}, the dataset needs uint8 {expected}")
        cached = cls.__new__(cls)
        cached.__dict__.update(dataset.__dict__)
        cached.images = images
        return cached

    @property
    def nbytes(self) -> int:
        return int(self.images.nbytes)

    def load_rgb(self, index: int) -> np.ndarray:
        """The cached crop at model size (a copy: augmentations never touch the cache)."""
        return self.images[index].copy()


def cache_dataset(dataset: PlateDataset, name: str = "dataset", threads: int | None = None) -> CachedPlateDataset:
    """``dataset`` with its images decoded into memory once; logs the time and memory it took."""
    start = time.perf_counter()
    cached = CachedPlateDataset.from_dataset(dataset, threads)
    seconds = time.perf_counter() - start
    log.info(
        "In-memory cache of the %s: %d crops at %dx%d, %.0f MB, built in %.1f s (%.0f images/s)",
        name,
        len(cached),
        cached.preprocessor.image_height,
        cached.preprocessor.image_width,
        cached.nbytes / 1e6,
        seconds,
        len(cached) / max(seconds, 1e-9),
    )
    return cached
