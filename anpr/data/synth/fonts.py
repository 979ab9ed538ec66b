"""Fonts shipped by installed Python packages, and a cache of their rendered glyphs."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
            f.set_variation_by_axes(
                [font.wght if a["name"] in (b"Weight", "Weight") else a["default"] for a in axes]
            )
        except OSError:
            pass  # FreeType without variation support: default instance
    return f


@lru_cache(maxsize=None)
def _font_at_cap(font: FontChoice, cap: int) -> tuple[ImageFont.FreeTypeFont, int]:
    """The font sized so that a capital H is ``cap`` pixels tall; returns (font, pad)."""
    probe = _load(font, 100)
    _, top, _, bottom = probe.getbbox("H", anchor="ls")
    size = max(4, round(100 * cap / max(1, bottom - top)))
    return _load(font, size), max(2, round(cap * 0.25))


@lru_cache(maxsize=None)
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
