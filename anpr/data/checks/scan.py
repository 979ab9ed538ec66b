"""The image half of a dataset check: each image named once, its result taken from the cache while
the file is unchanged, the others probed now."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from anpr.data.check_images import Finding, ImageFacts, ImageLimits, facts_findings, scan_images
from anpr.data.checks.cache import ImageCache


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
