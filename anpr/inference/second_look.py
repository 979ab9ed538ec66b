"""A second look at doubtful crops: read them again in other boxes and keep the surest reading.

A detector's box is sometimes far off: loose around the plate, with car body and other text in
it, or cut into the plate's end characters. No fixed set of views suits both: a tighter box
helps the first and ruins the second, a wider one the reverse. So a crop whose reading is
doubtful (confidence below ``below``) is read once more for each of ``views``, each time with
the reader's own views plus that one, and the reading the reader is surest of is kept. Confident
crops, most of them, cost nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from anpr.decoding import PlateRead
from anpr.errors import UserError
from anpr.inference.views import UnknownViewError, check_views

FROM_READER_FILE = "reader-file"  # PlateReader's default: the second look a reader file names, if any


class SecondLookError(UserError, ValueError):
    """A second look that cannot work: a threshold outside (0, 1] or no views."""


@dataclass(frozen=True)
class SecondLook:
    """Read crops whose confidence is below ``below`` again, once per view in ``views``."""

    below: float
    views: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 0 < self.below <= 1:
            raise SecondLookError(f"second look: 'below' must be a confidence in (0, 1], not {self.below}")
        if not self.views:
            raise SecondLookError("second look: name at least one view to read doubtful crops in")
        try:
            object.__setattr__(self, "views", check_views(self.views))
        except UnknownViewError as err:
            raise SecondLookError(f"second look: {err}") from None

    @classmethod
    def from_spec(cls, spec: Any) -> SecondLook | None:
        """From a reader file's ``{"below": 0.9, "views": ["wide", "tighter"]}`` (``null``: none)."""
        if spec is None:
            return None
        if not isinstance(spec, dict) or set(spec) != {"below", "views"}:
            raise SecondLookError('second look: expected {"below": CONFIDENCE, "views": [VIEW, ...]}')
        below, views = spec["below"], spec["views"]
        if not isinstance(below, (int, float)) or isinstance(below, bool) or not 0 < below <= 1:
            raise SecondLookError(f"second look: 'below' must be a confidence in (0, 1], not {below!r}")
        if not isinstance(views, list) or not all(isinstance(v, str) for v in views):
            raise SecondLookError("second look: 'views' must be a list of view names")
        return cls(float(below), tuple(views))


def look_again(
    reader: Any,
    look: SecondLook,
    view_input: Callable[[int, str], np.ndarray],
    logits: np.ndarray,
    reads: list[PlateRead],
    min_confidence: float | None = None,
) -> list[PlateRead]:
    """``reads`` with each doubtful one replaced by the surest of its second readings.

    ``logits`` are the reader's readings of the crops (:meth:`~anpr.inference.PlateReader.logits`)
    and ``view_input(i, view)`` the model input of crop ``i`` boxed as ``view``; ``reader`` runs
    and decodes.
    """
    doubtful = [i for i, read in enumerate(reads) if read.confidence < look.below]
    if not doubtful:
        return reads
    first = logits[doubtful]
    if first.ndim == 3:  # one model in one view: one reading per plate
        first = first[:, None]
    best = {i: None for i in doubtful}
    batch = np.stack([view_input(i, view) for view in look.views for i in doubtful]).astype(np.float32)
    every = reader.backend(np.ascontiguousarray(batch))  # all views in one call
    if every.ndim == 3:
        every = every[:, None]
    n = len(doubtful)
    combined = [np.concatenate([first, every[v * n : (v + 1) * n]], axis=1) for v in range(len(look.views))]
    again = reader.decode(np.concatenate(combined), min_confidence)  # all views decoded in one batch
    for k, read in enumerate(again):
        i = doubtful[k % n]
        if best[i] is None or read.confidence > best[i].confidence:
            best[i] = read
    return [best.get(i) or read for i, read in enumerate(reads)]
