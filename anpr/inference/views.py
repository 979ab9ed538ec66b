"""Views of one crop for test-time agreement: the same plate boxed a little differently.

A detector's box is never exactly where training put it. Reading a crop several times, each box
cut or widened a few percent, and keeping the reading that all views find most probable
(:mod:`anpr.decoding.combine`) corrects some misreads and, where the views disagree, lowers the
confidence. Each view is (left, top, right, bottom): the share of the crop's width or height
cut from that side (negative: the edge pixels repeated outwards).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from anpr.errors import UserError

VIEWS: dict[str, tuple[float, float, float, float]] = {
    "full": (0.0, 0.0, 0.0, 0.0),  # the crop as given
    "tight": (0.03, 0.05, 0.03, 0.05),  # 3% of the width and 5% of the height off each side
    "tighter": (0.06, 0.10, 0.06, 0.10),
    "wide": (-0.03, -0.06, -0.03, -0.06),  # the box grown by as much, edges repeated
}
DEFAULT_VIEWS = ("full",)


class UnknownViewError(UserError, ValueError):
    """A view name that is not in :data:`VIEWS`."""


def check_views(views: Sequence[str]) -> tuple[str, ...]:
    """``views`` as a tuple, or a one-line error naming the unknown one and the known ones."""
    views = tuple(views) or DEFAULT_VIEWS
    for name in views:
        if name not in VIEWS:
            raise UnknownViewError(f"unknown view {name!r}: use some of {', '.join(VIEWS)}")
    return views


def crop_view(image: np.ndarray, name: str) -> np.ndarray:
    """The crop ``image`` (H x W x C) boxed as view ``name`` describes."""
    left, top, right, bottom = VIEWS[name]
    if not any((left, top, right, bottom)):
        return image
    h, w = image.shape[:2]
    sides = [round(abs(v) * size) for v, size in zip((left, top, right, bottom), (w, h, w, h))]
    pad = [s if v < 0 else 0 for s, v in zip(sides, (left, top, right, bottom))]
    cut = [s if v > 0 else 0 for s, v in zip(sides, (left, top, right, bottom))]
    if cut[0] + cut[2] >= w - 1 or cut[1] + cut[3] >= h - 1:  # a crop too small to cut: read it whole
        cut = [0, 0, 0, 0]
    if any(pad):
        image = cv2.copyMakeBorder(image, pad[1], pad[3], pad[0], pad[2], cv2.BORDER_REPLICATE)
    height, width = image.shape[:2]
    return image[cut[1] : height - cut[3], cut[0] : width - cut[2]]
