"""Where plate images come from: command-line inputs (files, folders, globs) and sample plates."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".jp2")
# Image formats met in photo folders that the reader does not decode: reported, never skipped silently.
UNSUPPORTED_SUFFIXES = (".gif", ".heic", ".heif", ".avif", ".svg")


@dataclass(frozen=True)
class Input:
    """One thing to read: a file path, or an input that matched nothing (``error`` set)."""

    path: str
    error: str | None = None


def expand_inputs(inputs: Iterable[str | Path]) -> list[Input]:
    """Files as given, folders searched recursively for image files, globs expanded (``**`` too).

    Files named explicitly are kept whatever their extension (reading them reports any problem);
    in folders only image extensions are picked up, and images in formats the reader cannot
    decode (GIF, HEIC, ...) are listed with an error saying so. An input matching nothing becomes an
    :class:`Input` with an ``error``, so callers can report it and go on. Order is kept, each
    folder's and glob's files sorted; duplicates are dropped.
    """
    found: list[Input] = []
    seen: set[str] = set()

    def add(item: Input) -> None:
        if item.error or item.path not in seen:
            seen.add(item.path)
            found.append(item)

    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES + UNSUPPORTED_SUFFIXES
            )
            if not files:
                add(Input(text, f"no image files ({', '.join(IMAGE_SUFFIXES[:4])}, ...) in folder"))
            for p in files:
                add(Input(str(p), _unsupported(p)))
        elif path.is_file():
            add(Input(text))
        elif glob.has_magic(text):
            matches = sorted(m for m in glob.glob(text, recursive=True) if Path(m).is_file())
            if not matches:
                add(Input(text, "glob pattern matched no files"))
            for m in matches:
                add(Input(m))
        else:
            add(Input(text, "no such file or folder"))
    return found


def _unsupported(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        return f"{suffix[1:].upper()} images are not read: convert it to PNG or JPEG"
    return None


def sample_plates(count: int, seed: int = 0) -> tuple[list[np.ndarray], list[str] | None, str]:
    """``count`` BGR plate crops for parity checks, calibration and benchmarks.

    Returns ``(images, texts, source)``: plates from the synthetic renderer
    (``anpr.data.synth.PlateSynthesizer``), their texts, and a line saying where they came from.
    """
    from anpr.data.synth import PlateSynthesizer

    synth = PlateSynthesizer(seed)
    samples = [synth.render(i) for i in range(count)]
    return [s.image for s in samples], [s.text for s in samples], "synthetic plates (anpr.data.synth.PlateSynthesizer)"
