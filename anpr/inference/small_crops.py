"""Small crops to a reader made for them: a distant plate read by models trained on distant plates.

A plate far from the camera reaches the reader a few pixels high; a two-line plate 16 px high
has characters 4 px wide. Models trained on such plates read them better than models trained on
every size, and a crop's height is known before it is read, so a reader file can send the crops
under a height to another reader:

    "small_crops": {"below_height": 25, "reader": "reader_small.json"}

``reader`` (a reader file or a model file, relative to the reader file) must take the same model
input. Every crop at least ``below_height`` pixels high is read as before and costs nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anpr.errors import UserError


class SmallCropsError(UserError, ValueError):
    """A ``small_crops`` entry that cannot work: no height, no reader."""


@dataclass(frozen=True)
class SmallCrops:
    """Crops under ``below_height`` pixels high are read by the reader in file ``reader``."""

    below_height: int
    reader: Path

    @classmethod
    def from_spec(cls, spec: Any, folder: Path) -> SmallCrops | None:
        """From a reader file's ``{"below_height": 25, "reader": "FILE"}`` (``null``: none);
        ``folder`` is the reader file's, where ``FILE`` is looked for."""
        if spec is None:
            return None
        if not isinstance(spec, dict) or set(spec) != {"below_height", "reader"}:
            raise SmallCropsError('small_crops: expected {"below_height": PIXELS, "reader": FILE}')
        below, reader = spec["below_height"], spec["reader"]
        if not isinstance(below, int) or isinstance(below, bool) or below < 2:
            raise SmallCropsError(
                f"small_crops: 'below_height' must be a whole number of pixels above 1, not {below!r}"
            )
        if not isinstance(reader, str) or not reader:
            raise SmallCropsError("small_crops: 'reader' must name a reader or model file")
        path = folder / reader
        if not path.is_file():
            raise SmallCropsError(f"small_crops: reader file not found: {path}")
        return cls(below, path)


def split_by_height(heights: Sequence[int], below: int) -> tuple[list[int], list[int]]:
    """The indices of the crops under ``below`` pixels high, and of the others, in order."""
    small = [i for i, height in enumerate(heights) if height < below]
    taken = set(small)
    return small, [i for i in range(len(heights)) if i not in taken]
