"""Draw a flat, frontal plate: background paint, characters and plate furniture."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import cv2
import numpy as np

from anpr.grammar import plate_groups

from . import decor
from .fonts import FontChoice, available_fonts, glyph
from .layout import TextStyle, line_mask, text_block
from .schemes import sample_scheme, scheme_colours

CAP = 40  # capital height, in pixels, of the flat plate; the scene rescales later


@dataclass
class Plate:
    """A flat plate image plus where its characters are."""

    image: np.ndarray  # HxWx3 uint8 BGR
    alpha: np.ndarray  # HxW uint8 plate shape (rounded corners)
    text_box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the characters
    scheme: str
    font: str
    layout: str = "one-line"  # one of anpr.data.layouts.LAYOUTS
    separator: str = ""  # printed between groups: '', '-' or '.'
    min_cap: float = 12.0  # smallest legible character height in the final image, in pixels
    # (x, y, line) of each character's centre in reading order, in plate pixels (a stacked
    # 'MP/09' prefix: the state on line 0, the district and the rest on line 1).
    char_centres: np.ndarray | None = None
    furniture: tuple[str, ...] = ()  # what may be mistaken for text: 'sticker', 'sheen'


@lru_cache(maxsize=2)
def _font_table(two_line: bool = False) -> tuple[tuple[FontChoice, ...], np.ndarray]:
    """Fonts and their sampling probabilities; two-wheeler plates favour squarish faces."""
    fonts = available_fonts()
    p = np.array([f.weight * (3 if two_line and f.kind == "square" else 1) for f in fonts], float)
    return fonts, p / p.sum()


def sample_style(rng: np.random.Generator, two_line: bool) -> TextStyle:
    fonts, p = _font_table(two_line)
    font = fonts[int(rng.choice(len(fonts), p=p))]
    natural = glyph(font, "0", CAP).mask.shape[1] / CAP
    lo, hi = (0.5, 0.82) if two_line else (0.44, 0.74)
    # On a 4% grid so stretched glyphs can be cached (a few MB per process).
    x_scale = round(float(np.clip(rng.uniform(lo, hi) / natural, 0.6, 1.45)) * 25) / 25
    hand = font.kind == "hand"
    r = rng.random()
    separator = "" if r > 0.15 else ("-" if r < 0.06 else ".")  # 'MH.12.DS.7042', 'TN-02-AL-7695'
    # Down to hairline prints, up to sign painters' heavy brush faces (3 px at CAP 40).
    stroke = 0 if hand else int(rng.choice([-1, 0, 1, 2, 3], p=[0.15, 0.47, 0.23, 0.1, 0.05]))
    return TextStyle(
        font=font,
        cap=CAP,
        x_scale=x_scale,
        char_gap=float(rng.uniform(0.03, 0.2)),
        group_gap=float(rng.uniform(0.2, 0.75)),
        separator=separator,
        monospace=bool(rng.random() < (0.5 if font.kind == "mono" else 0.25)),
        jitter=float(rng.uniform(0.02, 0.06))
        if hand
        else (float(rng.uniform(0, 0.025)) if rng.random() < 0.2 else 0.0),
        stroke=stroke,
        # Sign painters' long-flag '1' (off for handwriting fonts, whose '1' is already drawn).
        one_flag=0.0 if hand or rng.random() > 0.3 else float(rng.choice([0.3, 0.4, 0.5])),
        # Separator dots and dashes from loose to nearly touching, sometimes heavier than the font's.
        separator_gap=float(rng.uniform(0.3, 1.6)),
        separator_bold=int(rng.choice([0, 1, 2], p=[0.5, 0.3, 0.2])),
    )


def split_lines(rng: np.random.Generator, text: str, two_line: bool) -> list[list[str]]:
    """Groups per printed line; adjacent groups are sometimes run together."""
    groups = plate_groups(text)
    if groups[0] == "DL" and rng.random() < 0.3:
        groups = ["DL" + groups[1]] + groups[2:]  # 'DL4C AF 1234'
    if two_line:
        cut = 2 if (len(groups) < 4 or rng.random() < 0.7) else 3
        if groups[1] == "BH":
            cut = 2
        cut = min(cut, len(groups) - 1)
        lines = [groups[:cut], groups[cut:]]
    else:
        lines = [groups]
    mode = rng.random()
    keep_p = 1.0 if mode < 0.62 else (0.0 if mode < 0.8 else 0.5)
    merged = []
    for line in lines:
        out = [line[0]]
        for g in line[1:]:
            if rng.random() < keep_p:
                out.append(g)
            else:
                out[-1] += g
        merged.append(out)
    return merged


def two_line_styles(rng: np.random.Generator, style: TextStyle) -> list[TextStyle]:
    """Top and bottom line styles: on most two-wheeler plates the registration number below is
    larger and bolder than the state and district above; autos often print both the same."""
    if rng.random() < 0.4:
        return [style, style]
    top = replace(
        style,
        cap=round(style.cap * float(rng.choice([0.68, 0.76, 0.84, 0.92]))),
        stroke=max(-1, style.stroke - int(rng.random() < 0.5)),
        group_gap=style.group_gap * float(rng.uniform(1.0, 1.8)),
    )
    bottom = replace(style, stroke=min(2, style.stroke + int(rng.random() < 0.5)))
    return [top, bottom]


def _ink(mask: np.ndarray) -> tuple[np.ndarray, int, int]:
    """``mask`` cropped to its ink, with the crop's left and top offsets."""
    rows = np.flatnonzero(mask.max(axis=1) > 40)
    cols = np.flatnonzero(mask.max(axis=0) > 40)
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], int(cols[0]), int(rows[0])


def stacked_prefix(
    rng: np.random.Generator, groups: list[str], style: TextStyle
) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """State over district in small type, then the rest at full height: 'MP/09 CY 2208'.

    Returns the mask and each character's centre (x, y, line) in reading order: the state on
    line 0, the district and the full-height text on line 1 (read after the district, so it
    shares the bottom line; :func:`anpr.train.losses.alignment_loss` reads last lines from one row).
    """
    small = replace(
        style, cap=max(8, round(style.cap * rng.uniform(0.42, 0.48))), jitter=0.0, stroke=max(0, style.stroke // 2)
    )
    prefix: list[tuple[float, float, int]] = []
    left, lx, ly = _ink(
        text_block([[groups[0]], [groups[1]]], small, rng, line_gap=0.2, align="left", centres=prefix)[0]
    )
    right_xs: list[float] = []
    right, rx, _ = _ink(line_mask(groups[2:], style, rng, right_xs))
    h = max(left.shape[0], right.shape[0])
    gap = round(style.cap * rng.uniform(0.25, 0.6))
    out = np.zeros((h, left.shape[1] + gap + right.shape[1]), np.uint8)
    y_left = (h - left.shape[0]) // 2
    out[y_left : y_left + left.shape[0], : left.shape[1]] = left
    y_right = (h - right.shape[0]) // 2
    out[y_right : y_right + right.shape[0], left.shape[1] + gap :] = right
    centres = [(x - lx, y - ly + y_left, line) for x, y, line in prefix]
    centres += [(x - rx + left.shape[1] + gap, h / 2, 1) for x in right_xs]
    return out, centres


@dataclass
class _Geometry:
    """Plate size and where things go on it, in flat-plate pixels."""

    ph: int
    pw: int
    tx: int
    ty: int
    ind_style: str  # 'none', 'mark' (small IND + wheel) or 'strip' (coloured band)
    ind_w: int
    hsrp: bool
    dealer: bool
    dealer_band: bool


def _text_mask(
    rng: np.random.Generator, text: str, two_line: bool, style: TextStyle
) -> tuple[np.ndarray, list[tuple[int, int]], float, np.ndarray | None, str]:
    """The characters as one ink-cropped mask, the rows of each line, the minimum legible cap,
    the character centres (x, y, line) in the mask and the layout."""
    groups = plate_groups(text)
    if not two_line and len(groups) >= 3 and groups[1] != "BH" and rng.random() < 0.05:
        mask, centres = stacked_prefix(rng, groups, style)
        rows = [(0, mask.shape[0])]
        min_cap = 24.0  # the small prefix must stay readable
        layout = "stacked-prefix"
    else:
        lines = split_lines(rng, text, two_line)
        min_cap = 12.0
        centres = []
        line_styles = two_line_styles(rng, style) if len(lines) == 2 else None
        mask, rows = text_block(
            lines,
            style,
            rng,
            line_gap=float(rng.uniform(0.18, 0.45)),
            align="center" if rng.random() < 0.85 else "left",
            centres=centres,
            line_styles=line_styles,
        )
        layout = "two-line" if two_line else "one-line"
    cols = np.flatnonzero(mask.max(axis=0) > 40)
    ink_rows = np.flatnonzero(mask.max(axis=1) > 40)
    # Crop to the ink: stroke dilation, jitter and tails reach past the cap lines.
    top, bottom = int(ink_rows[0]), int(ink_rows[-1]) + 1
    mask = mask[top:bottom, cols[0] : cols[-1] + 1]
    points = None if centres is None else np.array(centres, np.float32) - np.float32([cols[0], top, 0])
    return mask, [(a - top, b - top) for a, b in rows], min_cap, points, layout


def _geometry(rng: np.random.Generator, scheme: str, two_line: bool, text_h: int, tw: int, cap: int) -> _Geometry:
    """Margins, IND area and dealer space around a text block of ``tw`` x ``text_h``."""
    hsrp = scheme != "rental" and rng.random() < 0.45
    ind_style = ("strip" if rng.random() < 0.3 else "mark") if hsrp else ("none" if rng.random() < 0.9 else "strip")
    if two_line:
        m_top = rng.uniform(0.12, 0.4) * cap
        m_bot = rng.uniform(0.12, 0.4) * cap
    else:
        ph_target = text_h / rng.uniform(0.5, 0.74)
        slack = ph_target - text_h
        frac = float(np.clip(rng.normal(0.5, 0.08), 0.25, 0.75))
        m_top, m_bot = slack * frac, slack * (1 - frac)
    dealer = rng.random() < 0.22
    dealer_band = dealer and rng.random() < 0.3
    if dealer:
        m_bot = max(m_bot, cap * (0.45 if dealer_band else 0.38))
    ph = int(round(text_h + m_top + m_bot))
    mx_l = rng.uniform(0.18, 0.7) * cap
    mx_r = mx_l * rng.uniform(0.7, 1.3)
    ind_w = (
        int(rng.uniform(0.35, 0.55) * ph)
        if ind_style != "none" and not two_line
        else (int(rng.uniform(0.25, 0.35) * ph) if ind_style != "none" else 0)
    )
    if ind_style == "mark":
        ind_w = int(ind_w * 0.8)
    pw = int(round(tw + mx_l + mx_r + ind_w))
    # Keep real plate proportions: one-line about 2.8-5.8:1, two-line 1.45-2.3:1, and auto-rickshaw
    # plates (commercial two-line) often nearly square, 1.2-1.6:1, with wide margins above and below.
    lo, hi = (1.45, 2.3) if two_line else (2.8, 5.8)
    if two_line and scheme == "commercial" and rng.random() < 0.6:
        lo, hi = 1.2, float(rng.uniform(1.2, 1.6))
    if pw < lo * ph:
        extra = lo * ph - pw
        mx_l, mx_r, pw = mx_l + extra / 2, mx_r + extra / 2, int(round(lo * ph))
    elif pw > hi * ph:
        extra = pw / hi - ph
        m_top, m_bot, ph = m_top + extra / 2, m_bot + extra / 2, int(round(pw / hi))
    return _Geometry(ph, pw, int(round(mx_l + ind_w)), int(round(m_top)), ind_style, ind_w, hsrp, dealer, dealer_band)


def _screws(rng: np.random.Generator, img: np.ndarray, two_line: bool, between: int | None = None) -> None:
    """Screw heads or rivets; on two-line plates also in the gap between the lines (row ``between``)."""
    ph, pw = img.shape[:2]
    r = max(2, int(rng.uniform(0.035, 0.065) * (ph if not two_line else ph * 0.7)))
    if two_line and between is not None and rng.random() < 0.35:  # left and right of the gap
        sx = int(pw * rng.uniform(0.06, 0.14))
        decor.screws(img, [(sx, between), (pw - sx, between)], r, rng)
    elif two_line and rng.random() < 0.6:  # top and bottom centre, often over the text
        sx = int(pw * rng.uniform(0.4, 0.6))
        decor.screws(img, [(sx, int(ph * rng.uniform(0.06, 0.2))), (sx, int(ph * rng.uniform(0.8, 0.94)))], r, rng)
    else:
        sy = int(rng.uniform(0.1, 0.3) * ph) if rng.random() < 0.8 else ph // 2
        sx = int(rng.uniform(0.18, 0.32) * pw)
        decor.screws(img, [(sx, sy), (pw - sx, sy)], r, rng)


def _dealer_text(rng: np.random.Generator, img: np.ndarray, g: _Geometry, two_line: bool, cap: int) -> None:
    name = decor.dealer_name(rng)
    dcap = max(4, int(rng.uniform(0.1, 0.16) * g.ph if not two_line else 0.08 * g.ph))
    fonts = available_fonts()
    dmask = decor.small_text(fonts[int(rng.integers(len(fonts)))], name, dcap)
    if dmask.shape[1] > g.pw * 0.85:
        dmask = cv2.resize(dmask, (int(g.pw * 0.85), dmask.shape[0]))
    colour = (
        (255, 255, 255)
        if g.dealer_band
        else tuple(int(c) for c in rng.choice([(30, 30, 200), (150, 60, 20), (30, 30, 30), (40, 120, 40)]))
    )
    dy = g.ph - int(cap * 0.2) - dmask.shape[0] // 2
    decor.blend_mask(img, dmask, colour, (g.pw - dmask.shape[1]) // 2, dy)


def _sticker(
    rng: np.random.Generator, img: np.ndarray, g: _Geometry, text: tuple[int, int, int, int], cap: int
) -> bool:
    """A sticker in the wider side margin beside the characters, where one fits (True if drawn)."""
    x0, _, x1, _ = text
    gap = max(2, int(0.12 * cap))
    left = (g.ind_w + 2, x0 - gap) if g.ind_style == "none" or g.ind_w == 0 else None
    right = (x1 + gap, g.pw - 2)
    side = max([s for s in (left, right) if s is not None], key=lambda s: s[1] - s[0])
    room = side[1] - side[0]
    if room < 0.4 * cap:
        return False
    w = int(room * rng.uniform(0.5, 0.95))
    h = int(min(g.ph * rng.uniform(0.25, 0.6), w * rng.uniform(0.5, 1.4)))
    x = side[0] + int(rng.uniform(0, room - w))
    y = int(rng.uniform(0.05, 0.95) * (g.ph - h))
    fonts = available_fonts()
    decor.sticker(img, (x, y, x + w, y + h), fonts[int(rng.integers(len(fonts)))], rng)
    return True


def render_plate(rng: np.random.Generator, text: str, two_line: bool) -> Plate:
    """Render ``text`` on a flat plate at CAP-pixel character height."""
    scheme = sample_scheme(rng, two_line)
    bg, fg = scheme_colours(rng, scheme)
    style = sample_style(rng, two_line)
    mask, rows, min_cap, centres, layout = _text_mask(rng, text, two_line, style)
    cap = style.cap
    text_h, tw = mask.shape
    g = _geometry(rng, scheme, two_line, text_h, tw, cap)
    ph, pw, tx, ty = g.ph, g.pw, g.tx, g.ty

    # Paint and the furniture under the characters.
    img = np.empty((ph, pw, 3), np.uint8)
    img[:] = bg.astype(np.uint8)
    radius = int(rng.uniform(0.02, 0.12) * ph)
    if g.dealer_band:
        band_c = tuple(int(c) for c in rng.choice([(150, 60, 20), (30, 30, 170), (20, 20, 20)]))
        cv2.rectangle(img, (0, ph - int(cap * 0.4)), (pw, ph), band_c, -1)
    if two_line and len(rows) == 2 and rng.random() < (0.25 if scheme == "commercial" else 0.05):
        # A painted rule between the lines, as on many auto-rickshaw plates.
        y = ty + (rows[0][1] + rows[1][0]) // 2
        colour = (30, 30, 190) if rng.random() < 0.6 else tuple(int(c) for c in fg)
        cv2.line(img, (int(0.05 * pw), y), (int(0.95 * pw), y), colour, max(1, cap // 14), cv2.LINE_AA)
    if g.ind_style != "none":
        inset = max(2, int(0.06 * ph))
        label_font = style.font if style.font.kind != "hand" else available_fonts()[-1]
        decor.ind_mark(img, inset, inset, ph - inset, g.ind_w - inset, label_font, rng, strip=g.ind_style == "strip")
        if g.hsrp and rng.random() < 0.35:
            r = int(ph * rng.uniform(0.08, 0.12))
            decor.hologram(img, g.ind_w + r + 2, inset + r + 1, r, rng)

    # Characters: optional emboss shading, then the paint itself.
    paint_fg = fg
    if rng.random() < 0.2:  # faded paint
        paint_fg = fg + (bg - fg) * rng.uniform(0.15, 0.45)
    embossed = rng.random() < (0.6 if g.hsrp else 0.3)
    if embossed:  # pressed characters: a shadow below right, often a lit edge above left
        d = 1 if rng.random() < 0.7 else 2
        shade = np.clip(bg * rng.uniform(0.45, 0.75), 0, 255)
        decor.blend_mask(img, mask, shade, tx + d, ty + d)
        if rng.random() < 0.5:
            decor.blend_mask(img, mask, (255, 255, 255), tx - d, ty - d, opacity=float(rng.uniform(0.4, 0.8)))
    decor.blend_mask(img, mask, paint_fg, tx, ty)

    # Furniture over the paint: rim, screws, dealer name.
    room = min(ty, ph - ty - text_h, tx - g.ind_w, pw - tx - tw)  # clearance around the text
    if rng.random() < 0.65:
        thick = max(1, int(rng.uniform(0.01, 0.035) * ph))
        inset = min(int(rng.uniform(0.015, 0.06) * ph), room - thick - 2)
        if inset >= 0:  # a rim never runs over the characters
            decor.border(img, inset, thick, max(0, radius - inset), fg)
    if rng.random() < 0.45:
        _screws(rng, img, two_line, ty + (rows[0][1] + rows[1][0]) // 2 if len(rows) == 2 else None)
    if g.dealer:
        _dealer_text(rng, img, g, two_line, cap)
    furniture = []
    if rng.random() < 0.2 and _sticker(rng, img, g, (tx, ty, tx + tw, ty + text_h), cap):
        furniture.append("sticker")
    if embossed and g.hsrp and rng.random() < 0.4:
        decor.sheen(img, rng)
        furniture.append("sheen")

    box = (tx, ty, tx + tw, ty + text_h)
    if centres is not None:
        centres = centres + np.float32([tx, ty, 0])
    return Plate(
        img,
        decor.rounded_alpha(ph, pw, radius),
        box,
        scheme,
        style.font.name,
        layout,
        style.separator,
        min_cap,
        centres,
        tuple(furniture),
    )
