"""Training augmentations built from config (albumentations), applied at model input size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import albumentations as A
import numpy as np
from hydra.utils import instantiate


class Augmenter:
    """Callable uint8 RGB -> uint8 RGB wrapping an albumentations ``Compose``.

    ``transforms`` are albumentations transforms or Hydra configs of them (``_target_``), so a
    user adds ``RandomRain`` or ``RandomShadow`` in YAML without touching code.
    """

    def __init__(self, transforms: Sequence[Any]) -> None:
        built = [instantiate(t) if not isinstance(t, A.BasicTransform) else t for t in transforms]
        # Points outside the image are kept (a character pushed off the edge still has a place).
        self.compose = A.Compose(built, keypoint_params=A.KeypointParams(format="xy", remove_invisible=False))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.compose(image=image)["image"]

    def with_points(self, image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Augment ``image`` and move (N, 2) pixel ``points`` (x, y) with its geometry."""
        out = self.compose(image=image, keypoints=points)
        return out["image"], np.asarray(out["keypoints"], np.float32).reshape(-1, 2)

    def __repr__(self) -> str:
        return f"Augmenter({self.compose!r})"
