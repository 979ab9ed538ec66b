"""The image half of a dataset check: each image named once, its result taken from the cache while
the file is unchanged, the others probed now on a thread pool (OpenCV releases the GIL while
decoding)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from anpr.data.checks.cache import ImageCache
from anpr.data.checks.images import Finding, ImageFacts, ImageLimits, facts_findings, probe_image
from anpr.data.images import quiet_opencv


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def scan_images(
    paths: Iterable[str | Path],
    decode: bool = True,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 64,
) -> list[ImageFacts | Finding]:
    """:func:`probe_image` for every path, in order, on a thread pool; ``progress(n)`` is called
    with the number of images just done after each chunk."""
    paths = list(paths)
    chunks = [paths[i : i + chunk] for i in range(0, len(paths), chunk)]

    def run(batch: list) -> list[ImageFacts | Finding]:
        return [probe_image(p, decode) for p in batch]

    results: list[ImageFacts | Finding] = []
    workers = workers or default_workers()
    with quiet_opencv():
        if workers == 1 or len(chunks) <= 1:
            _collect(map(run, chunks), results, progress)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                _collect(pool.map(run, chunks), results, progress)
    return results


def _collect(batches: Iterable[list], results: list, progress: Callable[[int], None] | None) -> None:
    for batch in batches:
        results.extend(batch)
        if progress:
            progress(len(batch))


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def image_findings(
    images_dir: Path,
    names: Sequence[str],
    limits: ImageLimits = ImageLimits(),
    decode: bool = True,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> tuple[dict[str, list[Finding]], int, int, float]:
    """Findings per image name, the number of images scanned now, the number taken from the
    cache and the seconds the scan took."""
    cache = ImageCache(images_dir, Path(cache_dir) if cache_dir is not None else None)
    base = str(images_dir)  # os.path rather than pathlib: this loop runs once per image
    results: dict[str, ImageFacts | Finding] = {}
    to_scan: list[tuple[str, tuple[int, int]]] = []
    cached_count = 0
    for name in names:
        path = os.path.join(base, name)
        stat = _stat(path)
        if stat is None:
            shown = path if path.isprintable() else repr(path)  # e.g. a stray BOM in the name
            results[name] = ("missing_image", f"image not found: {shown}")
            continue
        cached = cache.get(name, stat, decode)
        if cached is None:
            to_scan.append((name, stat))
        else:
            results[name] = cached
            cached_count += 1
    if on_start:
        on_start(len(to_scan))
    start = time.perf_counter()
    if to_scan:
        scanned = scan_images([os.path.join(base, n) for n, _ in to_scan], decode, workers, progress)
        for (name, stat), result in zip(to_scan, scanned):
            results[name] = result
            if not (isinstance(result, tuple) and result[0] == "missing_image"):
                cache.put(name, stat, result, decode)
        cache.save()
    seconds = time.perf_counter() - start
    findings = {
        name: facts_findings(result, os.path.join(base, name), limits) if isinstance(result, ImageFacts) else [result]
        for name, result in results.items()
    }
    return findings, len(to_scan), cached_count, seconds
