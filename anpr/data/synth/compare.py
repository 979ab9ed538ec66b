"""Real crops beside synthetic ones, layout by layout: the picture to look at before changing the
renderer (what real plates have that ours lack shows up as a column that looks different)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from anpr.data.labels import read_labels
from anpr.data.layouts import read_layouts
from anpr.data.sheets import Caption, captioned_grid, labelled_rows, write_png

from .generator import PlateSynthesizer

_CELL = (240, 96)  # width, height of one picture cell, caption included


def _synthetic_by_layout(
    synth: PlateSynthesizer, layouts: list[str], per_layout: int, budget: int = 20000
) -> dict[str, list[tuple[np.ndarray, str]]]:
    """The first ``per_layout`` synthetic plates of each layout, in index order."""
    found: dict[str, list[tuple[np.ndarray, str]]] = defaultdict(list)
    for i in range(budget):
        if all(len(found[k]) >= per_layout for k in layouts):
            break
        sample = synth.render(i)
        if sample.layout in layouts and len(found[sample.layout]) < per_layout:
            found[sample.layout].append((sample.image, f"{sample.text} {sample.scheme}"))
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
    real: dict[str, list[tuple[np.ndarray, str]]] = defaultdict(list)
    for record in records:
        layout = layouts.get(record.image_name, "one-line")
        if len(real[layout]) >= per_layout:
            continue
        image = cv2.imread(str(Path(images_dir) / record.image_name), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"{Path(images_dir) / record.image_name}: cannot decode image ({record.where})")
        real[layout].append((image, record.text))
    fake = _synthetic_by_layout(synth, sorted(real), per_layout)
    rows = {}
    for layout in sorted(real):
        for source, cells in (("real", real[layout]), ("synthetic", fake.get(layout, []))):
            if cells:
                images, captions = zip(*cells)
                captions = [Caption(c, (0, 0, 200)) for c in captions]
                rows[f"{layout}: {source}"] = captioned_grid(
                    list(images),
                    captions,
                    per_layout,
                    cell=(_CELL[0], _CELL[1] - 18),
                    caption_height=18,
                    font_scale=0.4,
                    gap=0,
                )
    return write_png(labelled_rows(rows, above=True, font_scale=0.55), out, rgb=False)
