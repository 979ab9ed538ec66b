"""The synthetic plate generator: text, plate, scene and capture, deterministic per index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .degrade import degrade
from .render import CAP, render_plate
from .scene import place
from .text import sample_plate

# Bump whenever rendering output changes: datasets on disk are cached under this key.
GENERATOR_VERSION = "8"


@dataclass
class SynthSample:
    """One rendered plate crop and its ground truth."""

    image: np.ndarray  # HxWx3 uint8, BGR (OpenCV order)
    text: str  # label, A-Z0-9; two-line plates read top line then bottom line
    layout: str  # one of anpr.data.layouts.LAYOUTS
    scheme: str  # colour scheme name, see schemes.SCHEMES
    fmt: str  # plate format from the grammar: 'standard', 'delhi' or 'bh'
    # (x, y, line) of each character's centre in reading order, x and y as fractions of the
    # image's width and height; None where unknown.
    char_centres: np.ndarray | None = None
    separator: str = ""  # printed between groups: '', '-' or '.'
    furniture: tuple[str, ...] = ()  # beside the text and not in the label: 'sticker', 'sheen'

    @property
    def tags(self) -> list[str]:
        """Further fields for layout.tsv, which evaluation breaks accuracy down by."""
        return [f"separator:{_SEPARATOR_NAMES[self.separator]}", *self.furniture]


_SEPARATOR_NAMES = {"": "none", "-": "dash", ".": "dot"}


class PlateSynthesizer:
    """Renders sample ``i`` from its own RNG seeded by ``(seed, i)``.

    Rendering does not depend on call order or process, so DataLoader workers
    can share the index space without coordination.
    """

    def __init__(self, seed: int = 0, two_line_fraction: float = 0.25) -> None:
        if not 0.0 <= two_line_fraction <= 1.0:
            raise ValueError(f"two_line_fraction must be in [0, 1], got {two_line_fraction}")
        self.seed = int(seed)
        self.two_line_fraction = float(two_line_fraction)

    def render(self, index: int) -> SynthSample:
        rng = np.random.default_rng([self.seed, int(index)])
        text, fmt = sample_plate(rng)
        two_line = bool(rng.random() < self.two_line_fraction)
        plate = render_plate(rng, text, two_line)
        crop, centres = place(rng, plate)
        # Output size is drawn as the character height real crops show (~12-50 px).
        cap_out = max(plate.min_cap, float(np.exp(rng.uniform(np.log(12), np.log(50)))))
        out_h = max(12, round(crop.shape[0] * cap_out / CAP))
        image = degrade(rng, crop, CAP, out_h)
        if centres is not None:
            centres = centres / np.float32([crop.shape[1], crop.shape[0], 1])
        return SynthSample(image, text, plate.layout, plate.scheme, fmt, centres, plate.separator, plate.furniture)

    __getitem__ = render

    def __repr__(self) -> str:
        return f"PlateSynthesizer(seed={self.seed}, two_line_fraction={self.two_line_fraction})"
