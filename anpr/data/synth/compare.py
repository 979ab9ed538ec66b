"""Real crops beside synthetic ones, layout by layout: the picture to look at before changing the
renderer (what real plates have that ours lack shows up as a column that looks different)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from anpr.data.labels import read_labels
from anpr.data.layouts import read_layouts

from .generator import PlateSynthesizer

_CELL = (240, 96)  # width, height of one picture cell, caption included
_HEADER = 26


def _fit(image: np.ndarray, caption: str) -> np.ndarray:
    """The image scaled into one cell, its caption under it."""
    w, h = _CELL
    scale = min(w / image.shape[1], (h - 18) / image.shape[0])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    cell = np.full((h, w, 3), 255, np.uint8)
    cell[: small.shape[0], : small.shape[1]] = small
    cv2.putText(cell, caption, (2, h - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 200), 1, cv2.LINE_AA)
    return cell


def _header(text: str, width: int) -> np.ndarray:
    bar = np.full((_HEADER, width, 3), 230, np.uint8)
    cv2.putText(bar, text, (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return bar


def _synthetic_by_layout(
    synth: PlateSynthesizer, layouts: list[str], per_layout: int, budget: int = 20000
) -> dict[str, list[np.ndarray]]:
    """The first ``per_layout`` synthetic plates of each layout, in index order."""
    found: dict[str, list[np.ndarray]] = defaultdict(list)
    for i in range(budget):
        if all(len(found[k]) >= per_layout for k in layouts):
            break
        sample = synth.render(i)
        if sample.layout in layouts and len(found[sample.layout]) < per_layout:
            found[sample.layout].append(_fit(sample.image, f"{sample.text} {sample.scheme}"))
    return found


def comparison_sheet(
    images_dir: str | Path,
    labels_file: str | Path,
    layouts_file: str | Path,
    out: str | Path,
    synth: PlateSynthesizer,
    per_layout: int = 8,
) -> Path:
    """Write a PNG with, for each layout, a row pair: real crops on top, synthetic ones below."""
    records = read_labels(labels_file)
    layouts = read_layouts(layouts_file)
    real: dict[str, list[np.ndarray]] = defaultdict(list)
    for record in records:
        layout = layouts.get(record.image_name, "one-line")
        if len(real[layout]) >= per_layout:
            continue
        image = cv2.imread(str(Path(images_dir) / record.image_name), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"{Path(images_dir) / record.image_name}: cannot decode image ({record.where})")
        real[layout].append(_fit(image, record.text))
    fake = _synthetic_by_layout(synth, sorted(real), per_layout)
    width = _CELL[0] * per_layout
    blank = np.full((_CELL[1], _CELL[0], 3), 255, np.uint8)
    rows = []
    for layout in sorted(real):
        for source, cells in (("real", real[layout]), ("synthetic", fake.get(layout, []))):
            cells = (cells + [blank] * per_layout)[:per_layout]
            rows += [_header(f"{layout}: {source}", width), np.hstack(cells)]
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.vstack(rows)):
        raise OSError(f"could not write {path}")
    return path
