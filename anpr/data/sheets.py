"""Captioned picture grids, the one way anpr draws a sheet: validation reads, worst mistakes,
detector conditions, model comparisons, dataset previews and synthetic contact sheets are all
pictures in a grid with a caption under each, some with a label per row.

Colours are in the pictures' own channel order (RGB or BGR); nothing here converts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = 255


@dataclass(frozen=True)
class Caption:
    """The text under a picture, its colour, and whether to frame the picture in that colour."""

    text: str
    color: tuple[int, int, int] = (0, 0, 0)
    framed: bool = False


def fit_into(image: np.ndarray, width: int, height: int, background: int = WHITE) -> np.ndarray:
    """``image`` scaled to fit ``width`` x ``height`` (aspect kept), top-left on a plain cell."""
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    cell = np.full((height, width, 3), background, np.uint8)
    cell[: small.shape[0], : small.shape[1]] = small
    return cell


def text_width(text: str, font_scale: float) -> int:
    return cv2.getTextSize(text, FONT, font_scale, 1)[0][0]


def captioned_grid(
    images: Sequence[np.ndarray],
    captions: Sequence[Caption | str],
    columns: int,
    *,
    cell: tuple[int, int] | None = None,
    caption_height: int = 22,
    font_scale: float = 0.45,
    gap: int = 2,
    background: int = WHITE,
    widen_to_captions: bool = False,
) -> np.ndarray:
    """Pictures in rows of ``columns``, each above its caption, ``gap`` pixels around each.

    Args:
        cell: (width, height) every picture is fitted into; None: the pictures share one size.
        widen_to_captions: widen every cell to the longest caption, so none is cut off.
    """
    if not images:
        raise ValueError("no pictures to draw")
    captions = [c if isinstance(c, Caption) else Caption(c) for c in captions]
    if cell is not None:
        images = [fit_into(image, *cell, background=background) for image in images]
    height, width = images[0].shape[:2]
    if widen_to_captions:
        width = max([width] + [text_width(c.text, font_scale) for c in captions])
    tiles = []
    for image, caption in zip(images, captions):
        tile = np.full((height + caption_height, width, 3), background, np.uint8)
        tile[: image.shape[0], : image.shape[1]] = image
        baseline = (3, height + caption_height - 6)
        cv2.putText(tile, caption.text, baseline, FONT, font_scale, caption.color, 1, cv2.LINE_AA)
        if caption.framed:
            cv2.rectangle(tile, (0, 0), (width - 1, tile.shape[0] - 1), caption.color, 2)
        tiles.append(np.pad(tile, ((gap, gap), (gap, gap), (0, 0)), constant_values=background))
    columns = max(1, min(columns, len(tiles))) if cell is None else max(1, columns)
    tiles += [np.full_like(tiles[0], background)] * (-len(tiles) % columns)
    return np.concatenate([np.concatenate(tiles[i : i + columns], axis=1) for i in range(0, len(tiles), columns)])


def reads_grid(images: np.ndarray, preds: list[str], truths: list[str], columns: int = 4) -> np.ndarray:
    """Tile crops with a caption strip each: green when read right, red and framed with the truth when wrong."""
    captions = [
        Caption(pred, (0, 140, 0)) if pred == truth else Caption(f"{pred or '-'} | {truth}", (210, 0, 0), framed=True)
        for pred, truth in zip(preds, truths)
    ]
    return captioned_grid(list(images), captions, columns)


def labelled_rows(
    rows: Mapping[str, np.ndarray], *, above: bool = False, min_label_width: int = 84, font_scale: float = 0.45
) -> np.ndarray:
    """Rows of pictures stacked, each named by a label on its left (or a bar above it)."""
    drawn = []
    if above:
        for name, row in rows.items():
            bar = np.full((26, row.shape[1], 3), 230, np.uint8)
            cv2.putText(bar, name, (4, 18), FONT, font_scale, (0, 0, 0), 1, cv2.LINE_AA)
            drawn += [bar, row]
        return np.concatenate(drawn)
    label_width = max(min_label_width, *(text_width(name, font_scale) + 8 for name in rows))
    for name, row in rows.items():
        label = np.full((row.shape[0], label_width, 3), WHITE, np.uint8)
        cv2.putText(label, name, (4, row.shape[0] // 2), FONT, font_scale, (0, 0, 0), 1, cv2.LINE_AA)
        drawn.append(np.concatenate([label, row], axis=1))
    return np.concatenate(drawn)


def write_png(image: np.ndarray, path: str | Path, rgb: bool = True) -> Path:
    """Save a sheet as PNG (``rgb``: the array is RGB, else BGR as OpenCV draws it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if rgb else image)
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(data.tobytes())
    return path
