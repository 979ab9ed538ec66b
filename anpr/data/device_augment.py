"""Augmentation on the training device: batched kornia transforms after the uint8 batch arrives.

On a GPU this takes the augmentation off the loader workers (the slowest part of their work,
see ``anpr benchmark train``): they only slice crops out of the in-memory cache, and the
GPU transforms a whole batch at once. Used by ``augmentation=seed_on_device``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from hydra.utils import instantiate
from torch import nn


class DeviceAugmenter(nn.Module):
    """Float pixels in [0, 1], (B, 3, H, W), through kornia transforms; each sample draws its own."""

    def __init__(self, transforms: Sequence[Mapping[str, Any] | nn.Module]) -> None:
        super().__init__()
        import kornia.augmentation as K

        built = [t if isinstance(t, nn.Module) else instantiate(dict(t)) for t in transforms]
        self.transforms = K.AugmentationSequential(*built)
        # kornia keeps its sampling ranges as buffers; they are config, not weights, so they stay
        # out of checkpoints (which then load the same with or without device augmentation).
        for module in self.transforms.modules():
            module._non_persistent_buffers_set.update(module._buffers)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.transforms(pixels).clamp_(0.0, 1.0)
