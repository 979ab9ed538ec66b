"""Plate colour schemes (background / characters) and their sampling frequencies."""

from __future__ import annotations

import numpy as np

# name: (background BGR, text BGR, share of one-line plates, share of two-line plates)
SCHEMES = {
    "private": ((245, 245, 245), (20, 20, 20), 0.74, 0.42),
    "commercial": ((20, 200, 245), (20, 20, 20), 0.14, 0.40),
    "ev_private": ((60, 150, 30), (250, 250, 250), 0.04, 0.06),
    "ev_commercial": ((60, 150, 30), (30, 215, 250), 0.04, 0.06),
    "rental": ((25, 25, 25), (30, 210, 245), 0.04, 0.06),
}
SCHEME_NAMES = tuple(SCHEMES)
_WHITE_TINTS = ((-22, -4, 6), (10, 2, -10), (-6, 6, -6))  # BGR offsets


def sample_scheme(rng: np.random.Generator, two_line: bool) -> str:
    p = np.array([s[3] if two_line else s[2] for s in SCHEMES.values()])
    return SCHEME_NAMES[int(rng.choice(len(p), p=p / p.sum()))]


def _jitter(rng: np.random.Generator, bgr: tuple[int, int, int], amount: float) -> np.ndarray:
    c = np.array(bgr, float) + rng.normal(0, amount, 3)
    return np.clip(c, 0, 255)


def scheme_colours(rng: np.random.Generator, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(background, text) BGR colours with the spread real paint and lighting give."""
    bg, fg, _, _ = SCHEMES[name]
    if name == "private":
        # Whites range from bluish reflective sheeting to cream and dirty grey.
        level = rng.uniform(190, 255)
        tint = rng.normal(0, 2.5, 3)
        if rng.random() < 0.45:  # cream, bluish or greenish-grey whites; never magenta
            tint += np.array(_WHITE_TINTS[int(rng.integers(len(_WHITE_TINTS)))]) * rng.uniform(0.3, 1)
        bg_c = np.clip(level + tint, 0, 255)
        fg_c = np.clip(rng.uniform(0, 70) + rng.normal(0, 5, 3), 0, 255)
        return bg_c, fg_c
    if name == "commercial":
        # From lemon yellow to the deep orange-yellow of painted auto plates.
        g = rng.uniform(150, 225)
        bg_c = np.clip(np.array([rng.uniform(15, 110), g, rng.uniform(210, 255)]), 0, 255)
        return bg_c, _jitter(rng, fg, 12)
    return _jitter(rng, bg, 14), _jitter(rng, fg, 12)
