"""Write synthetic plates to disk as a labelled dataset, and preview them as a contact sheet."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2

from anpr.data.char_centres import format_centres
from anpr.data.sheets import Caption, captioned_grid, write_png

from .generator import GENERATOR_VERSION, PlateSynthesizer, SynthSample

_JPEG_QUALITY = 95  # degradations are already applied; do not add more loss here


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already; OpenCV threads would oversubscribe


def _render_chunk(args: tuple[int, float, str, list[int]]) -> list[tuple[str, str, str, str]]:
    """Render and save a list of indices; runs in worker processes too."""
    seed, two_line_fraction, image_dir, indices = args
    synth = PlateSynthesizer(seed, two_line_fraction)
    rows = []
    for i in indices:
        s = synth.render(i)
        name = f"{i:06d}.jpg"
        if not cv2.imwrite(os.path.join(image_dir, name), s.image, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]):
            raise OSError(f"could not write {name} to {image_dir}")
        rows.append((name, s.text, "\t".join([s.layout, *s.tags]), format_centres(name, s.char_centres)))
    return rows


def write_dataset(
    out_dir: str | os.PathLike,
    n: int,
    seed: int = 0,
    two_line_fraction: float = 0.25,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Write ``n`` plates to ``out_dir`` (images/, labels.txt, layout.tsv, chars.tsv, meta.json).

    layout.tsv lines are ``name<TAB>layout<TAB>separator:none|dash|dot``.

    Everything goes to a temporary sibling folder first and is renamed into place
    at the end, so an interrupted run never leaves a half-written dataset.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "images").mkdir(parents=True)

    chunk = 256
    jobs = [
        (seed, two_line_fraction, str(tmp / "images"), list(range(a, min(a + chunk, n)))) for a in range(0, n, chunk)
    ]
    rows: list[tuple[str, str, str, str]] = []
    try:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("synth plates"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, disable=not progress) as bar:
            task = bar.add_task("render", total=n)
            if workers > 1:
                # spawn, not fork: the caller may hold threads (torch, OpenCV) that a forked
                # child inherits mid-lock, which deadlocks it.
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
                    for part in pool.map(_render_chunk, jobs):
                        rows.extend(part)
                        bar.advance(task, len(part))
            else:
                for job in jobs:
                    part = _render_chunk(job)
                    rows.extend(part)
                    bar.advance(task, len(part))
        (tmp / "labels.txt").write_text("".join(f"{name}\t{text}\n" for name, text, _, _ in rows))
        (tmp / "layout.tsv").write_text("".join(f"{name}\t{layout}\n" for name, _, layout, _ in rows))
        (tmp / "chars.tsv").write_text("".join(chars for *_, chars in rows))
        meta = {
            "n": n,
            "seed": seed,
            "two_line_fraction": two_line_fraction,
            "generator_version": GENERATOR_VERSION,
            "generator": "anpr.data.synth",
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def render_contact_sheet(
    samples_or_synth: PlateSynthesizer | Iterable[SynthSample],
    path: str | os.PathLike,
    n: int = 48,
    cols: int = 6,
    cell_size: tuple[int, int] = (260, 110),
) -> Path:
    """Save a PNG grid of ``n`` samples, each with its label under it, for eyeballing realism."""
    if isinstance(samples_or_synth, PlateSynthesizer):
        samples = [samples_or_synth.render(i) for i in range(n)]
    else:
        samples = list(samples_or_synth)[:n]
    if not samples:
        raise ValueError("no samples to draw")
    width, height = cell_size
    short = {"one-line": "1L", "two-line": "2L", "stacked-prefix": "stacked"}
    captions = [Caption(f"{s.text} {short.get(s.layout, s.layout)} {s.scheme}", (0, 0, 200)) for s in samples]
    images = [s.image for s in samples]
    sheet = captioned_grid(images, captions, cols, cell=(width, height - 22), font_scale=0.42, gap=0)
    return write_png(sheet, path, rgb=False)
