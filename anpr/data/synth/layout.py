"""Lay glyphs out into a text mask: grouping, separators, spacing and jitter."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .fonts import FontChoice, glyph, long_flag_one


@dataclass(frozen=True)
class TextStyle:
    """How one plate's characters are set; sampled once per plate."""

    font: FontChoice
    cap: int  # capital height in pixels
    x_scale: float  # horizontal stretch of every glyph (<1 condenses)
    char_gap: float  # gap between characters, in cap heights
    group_gap: float  # extra gap between groups, in cap heights
    separator: str  # '', '-' or '.' printed between groups
    monospace: bool  # centre each glyph in a fixed-width cell, as sign painters do
    jitter: float  # per-character vertical jitter, in cap heights
    stroke: int  # >0 dilates (bolder), <0 erodes (thinner), in pixels
    one_flag: float = 0.0  # >0: '1' drawn with a long flag reaching this many cap heights left
    separator_gap: float = 1.5  # space each side of a separator, in character gaps
    separator_bold: int = 0  # extra dilation of a separator, in pixels ('MH.12' with heavy dots)


@lru_cache(maxsize=16384)
def _scaled(font: FontChoice, char: str, cap: int, x_scale: float) -> np.ndarray:
    """Glyph mask stretched horizontally; cached, so x_scale should come from a coarse grid."""
    return _scaled_mask(glyph(font, char, cap).mask, x_scale)


def _char_mask(style: TextStyle, char: str) -> np.ndarray:
    """One character's mask in this style (a long-flag '1' where the style asks for it)."""
    if char == "1" and style.one_flag > 0:
        mask = long_flag_one(style.font, style.cap, style.one_flag).mask
        return _scaled_mask(mask, style.x_scale)
    return _scaled(style.font, char, style.cap, style.x_scale)


def _scaled_mask(mask: np.ndarray, x_scale: float) -> np.ndarray:
    """``mask`` stretched horizontally by ``x_scale``."""
    width = max(1, round(mask.shape[1] * x_scale))
    return mask if width == mask.shape[1] else cv2.resize(mask, (width, mask.shape[0]), interpolation=cv2.INTER_LINEAR)


def _stroke(mask: np.ndarray, stroke: int) -> np.ndarray:
    if stroke == 0:
        return mask
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(stroke) + 1, 2 * abs(stroke) + 1))
    return cv2.dilate(mask, k) if stroke > 0 else cv2.erode(mask, k)


def line_mask(
    groups: list[str], style: TextStyle, rng: np.random.Generator, centres: list[float] | None = None
) -> np.ndarray:
    """One line of text as a uint8 mask; rows run from cap top - pad to baseline + pad.

    ``centres``, when given, gets the x centre of every character (not separators), in order.
    """
    cap = style.cap
    cell = None
    if style.monospace:
        cell = _scaled(style.font, "0", cap, style.x_scale).shape[1] * 1.08
    pieces: list[tuple[int, np.ndarray]] = []  # (x, mask)
    char_xs: list[float] = []
    x = 0.0
    gap = style.char_gap * cap + 2 * max(0, style.stroke)  # dilation must not merge glyphs
    for gi, group in enumerate(groups):
        if gi > 0:
            if style.separator:
                sep = _stroke(_scaled(style.font, style.separator, cap, style.x_scale), style.separator_bold)
                x += gap * style.separator_gap
                pieces.append((round(x), sep))
                x += sep.shape[1] + gap * style.separator_gap
            else:
                x += style.group_gap * cap
        for ci, ch in enumerate(group):
            if ci > 0 or gi > 0:
                x += gap
            m = _char_mask(style, ch)
            if cell is not None:
                w = max(cell, m.shape[1])
                pieces.append((round(x + (w - m.shape[1]) / 2), m))
                char_xs.append(x + w / 2)
                x += w
            else:
                pieces.append((round(x), m))
                char_xs.append(round(x) + m.shape[1] / 2)
                x += m.shape[1]
    height = pieces[0][1].shape[0]
    jit = max(1, round(style.jitter * cap)) + max(0, style.stroke)
    width = round(x) + 2 * jit + 2
    out = np.zeros((height + 2 * jit, width), np.uint8)
    for px, m in pieces:
        dy = int(rng.integers(-round(style.jitter * cap), round(style.jitter * cap) + 1)) if style.jitter else 0
        region = out[jit + dy : jit + dy + height, jit + px : jit + px + m.shape[1]]
        np.maximum(region, m[:, : region.shape[1]], out=region)
    if centres is not None:
        centres.extend(jit + cx for cx in char_xs)
    return _stroke(out, style.stroke)


def text_block(
    lines: list[list[str]],
    style: TextStyle,
    rng: np.random.Generator,
    line_gap: float,
    align: str = "center",
    centres: list[tuple[float, float, int]] | None = None,
    line_styles: list[TextStyle] | None = None,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Stack lines into one mask; returns (mask, [(cap_top_row, baseline_row), ...]).

    ``line_styles`` sets each line's own style (a two-wheeler's smaller top line over a larger,
    bolder bottom one); ``line_gap`` is in cap heights of ``style``. ``centres``, when given, gets
    (x, y, line) of every character's centre, in reading order.
    """
    styles = line_styles or [style] * len(lines)
    line_xs: list[list[float]] = [[] for _ in lines]
    masks = [line_mask(groups, s, rng, xs) for groups, s, xs in zip(lines, styles, line_xs)]
    pads = [(m.shape[0] - s.cap) // 2 for m, s in zip(masks, styles)]
    gap = round(line_gap * style.cap)
    width = max(m.shape[1] for m in masks)
    # Each line's box runs from its cap top - pad to baseline + pad; neighbours share the pads.
    tops = [0]
    for i in range(1, len(masks)):
        tops.append(tops[-1] + pads[i - 1] + styles[i - 1].cap + gap - pads[i])
    height = max(t + m.shape[0] for t, m in zip(tops, masks))
    out = np.zeros((height, width), np.uint8)
    rows = []
    for i, (m, s, y) in enumerate(zip(masks, styles, tops)):
        x = (width - m.shape[1]) // 2 if align == "center" else 0
        region = out[y : y + m.shape[0], x : x + m.shape[1]]
        np.maximum(region, m, out=region)
        if centres is not None:
            centres.extend((x + cx, y + pads[i] + s.cap / 2, i) for cx in line_xs[i])
        rows.append((y + pads[i], y + pads[i] + s.cap))
    return out, rows
