"""Fonts shipped by installed Python packages, and a cache of their rendered glyphs."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont


@dataclass(frozen=True)
class FontChoice:
    """One typeface at one weight; ``kind`` groups fonts by the plates they imitate."""

    name: str
    path: str
    kind: str  # 'condensed' (HSRP-like), 'square', 'sans', 'serif', 'mono', 'hand'
    weight: float  # sampling weight within the font list
    wght: float | None = None  # variable-font weight axis value


# (package, file, kind, sampling weight, variable weight). Packages that are not
# installed are skipped; matplotlib's DejaVu fonts are always there.
_CANDIDATES = [
    ("fontpkg_barlow_condensed", "BarlowCondensed-SemiBold.ttf", "condensed", 3, None),
    ("fontpkg_barlow_condensed", "BarlowCondensed-Bold.ttf", "condensed", 3, None),
    ("fontpkg_barlow_condensed", "BarlowCondensed-Medium.ttf", "condensed", 2, None),
    ("fontpkg_roboto_condensed", "RobotoCondensed[wght].ttf", "condensed", 3, 700),
    ("fontpkg_roboto_condensed", "RobotoCondensed[wght].ttf", "condensed", 2, 550),
    ("fontpkg_oswald", "Oswald[wght].ttf", "condensed", 2, 500),
    ("fontpkg_oswald", "Oswald[wght].ttf", "condensed", 1.5, 650),
    ("fontpkg_saira_condensed", "SairaCondensed-SemiBold.ttf", "condensed", 2, None),
    ("fontpkg_saira_condensed", "SairaCondensed-Bold.ttf", "condensed", 2, None),
    ("fontpkg_pt_sans_narrow", "PT_Sans-Narrow-Web-Bold.ttf", "condensed", 3, None),
    ("fontpkg_ibm_plex_sans_condensed", "IBMPlexSansCondensed-SemiBold.ttf", "condensed", 2, None),
    ("fontpkg_ibm_plex_sans_condensed", "IBMPlexSansCondensed-Bold.ttf", "condensed", 2, None),
    # Squarish monoline faces of aftermarket two-wheeler and 'designer' plates.
    ("fontpkg_share_tech", "ShareTech-Regular.ttf", "square", 2, None),
    ("fontpkg_rajdhani", "Rajdhani-SemiBold.ttf", "square", 1.5, None),
    ("fontpkg_rajdhani", "Rajdhani-Bold.ttf", "square", 1, None),
    ("fontpkg_chakra_petch", "ChakraPetch-SemiBold.ttf", "square", 1, None),
    ("fontpkg_arimo", "Arimo[wght].ttf", "sans", 3, 700),
    ("fontpkg_arimo", "Arimo[wght].ttf", "sans", 1.5, 550),
    ("fontpkg_pt_serif", "PT_Serif-Web-Bold.ttf", "serif", 1.5, None),
    ("fontpkg_roboto_slab", "RobotoSlab[wght].ttf", "serif", 1.5, 650),
    ("fontpkg_kalam", "Kalam-Bold.ttf", "hand", 1, None),
    ("fontpkg_kalam", "Kalam-Regular.ttf", "hand", 0.5, None),
]
_MPL_FONTS = [
    ("DejaVuSans-Bold.ttf", "sans", 3),
    ("DejaVuSans.ttf", "sans", 1),
    ("DejaVuSansMono-Bold.ttf", "mono", 1.5),
    ("DejaVuSerif-Bold.ttf", "serif", 1),
    ("DejaVuSansMono.ttf", "mono", 0.5),
]


def _package_dir(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=1)
def available_fonts() -> tuple[FontChoice, ...]:
    """Every usable font, found inside installed packages (never system folders)."""
    import matplotlib

    fonts = []
    for package, file, kind, weight, wght in _CANDIDATES:
        root = _package_dir(package)
        if root is not None and (root / "files" / file).is_file():
            name = f"{Path(file).stem}" + (f"@{wght:g}" if wght else "")
            fonts.append(FontChoice(name, str(root / "files" / file), kind, weight, wght))
    mpl_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for file, kind, weight in _MPL_FONTS:
        if (mpl_dir / file).is_file():
            fonts.append(FontChoice(Path(file).stem, str(mpl_dir / file), kind, weight))
    if not fonts:
        raise RuntimeError("no fonts found: matplotlib's DejaVu fonts are required")
    return tuple(fonts)


@dataclass(frozen=True)
class Glyph:
    """An anti-aliased glyph mask whose rows span cap top - pad .. baseline + pad."""

    mask: np.ndarray  # uint8, ink columns only
    advance: float  # the font's advance width in pixels
    left: int  # ink start relative to the pen position


def _load(font: FontChoice, size: int) -> ImageFont.FreeTypeFont:
    f = ImageFont.truetype(font.path, size)
    if font.wght is not None:
        try:
            axes = f.get_variation_axes()
            f.set_variation_by_axes([font.wght if a["name"] in (b"Weight", "Weight") else a["default"] for a in axes])
        except OSError:
            pass  # FreeType without variation support: default instance
    return f


@cache
def _font_at_cap(font: FontChoice, cap: int) -> tuple[ImageFont.FreeTypeFont, int]:
    """The font sized so that a capital H is ``cap`` pixels tall; returns (font, pad)."""
    probe = _load(font, 100)
    _, top, _, bottom = probe.getbbox("H", anchor="ls")
    size = max(4, round(100 * cap / max(1, bottom - top)))
    return _load(font, size), max(2, round(cap * 0.25))


@cache
def glyph(font: FontChoice, char: str, cap: int) -> Glyph:
    """Render ``char`` once per (font, cap height); later calls hit the cache."""
    f, pad = _font_at_cap(font, cap)
    advance = f.getlength(char)
    width = int(advance + cap) + 2 * pad
    height = cap + 2 * pad
    img = Image.new("L", (width, height), 0)
    ImageDraw.Draw(img).text((pad, pad + cap), char, font=f, fill=255, anchor="ls")
    mask = np.asarray(img)
    cols = np.flatnonzero(mask.max(axis=0) > 24)
    if cols.size == 0:  # a space
        return Glyph(np.zeros((height, max(1, int(advance))), np.uint8), advance, 0)
    return Glyph(np.ascontiguousarray(mask[:, cols[0] : cols[-1] + 1]), advance, int(cols[0]) - pad)


@cache
def long_flag_one(font: FontChoice, cap: int, flag: float) -> Glyph:
    """A sign-painter's '1': the font's stem width, a long flag reaching ``flag`` cap heights left.

    Many Indian plates (painted and older embossed ones) print '1' with a flag that runs far
    down to the left; next to a separator dot it looks like a '4' unless the model has seen it.
    No packaged font draws it that way, so it is drawn here, 4x supersampled for anti-aliasing.
    """
    base = glyph(font, "1", cap)
    row = base.mask[base.mask.shape[0] * 6 // 10]  # through the stem, below any flag
    stem = max(2, int((row > 128).sum()))
    pad = (base.mask.shape[0] - cap) // 2
    s = 4
    reach = round(flag * cap)
    width = reach + stem + 2
    canvas = np.zeros(((cap + 2 * pad) * s, width * s), np.uint8)
    x = (width - stem / 2 - 1) * s
    top, bottom = pad * s, (pad + cap) * s
    cv2.line(canvas, (round(x), top + stem * s // 2), (round(x), bottom - stem * s // 2), 255, stem * s)
    drop = round((0.25 + 0.5 * flag) * cap * s)  # the longer the flag, the lower it ends
    cv2.line(
        canvas,
        (round(x), top + stem * s // 2),
        (round(x - reach * s + stem * s / 2), top + drop),
        255,
        max(s, round(stem * s * 0.85)),
    )
    mask = cv2.resize(canvas, (width, cap + 2 * pad), interpolation=cv2.INTER_AREA)
    cols = np.flatnonzero(mask.max(axis=0) > 24)
    mask = np.ascontiguousarray(mask[:, cols[0] : cols[-1] + 1])
    return Glyph(mask, max(base.advance, float(mask.shape[1]) + 2), 0)
