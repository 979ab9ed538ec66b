"""Training augmentations built from config (albumentations), applied at model input size."""

from __future__ import annotations

from typing import Any, Sequence

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
        self.compose = A.Compose(built)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.compose(image=image)["image"]

    def __repr__(self) -> str:
        return f"Augmenter({self.compose!r})"
