"""An exponential moving average of the weights: what validation reads, checkpoints hold and
exports ship.

Late in a run the weights still jitter from batch to batch; their running average reads better than
any single step's weights for the same training time. Lightning's ``WeightAveraging`` keeps the
average beside the model, swaps it in for validation, saves it as the checkpoint's ``state_dict``
(the live weights travel beside it, so ``ckpt_path=last`` resumes exactly) and leaves it in the
model when training ends. This subclass sets the averaging rule.
"""

from __future__ import annotations

import torch
from lightning.pytorch.callbacks import WeightAveraging


class FollowThenAverage:
    """The averaging rule, for all tensors of one device and dtype at once: the live weights
    themselves for the first ``start_step`` updates (the alignment guide's steps, when the network
    changes fast, and so that validation before then reads the network being trained, never the
    untrained copy), an EMA with ``decay`` after them. Integer buffers (batch-norm step counts) are
    copied, not averaged."""

    def __init__(self, decay: float, start_step: int) -> None:
        self.decay, self.start_step = decay, start_step

    def __call__(self, averages: list[torch.Tensor], currents: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        if int(num_averaged) < self.start_step or not averages[0].is_floating_point():
            torch._foreach_copy_(averages, currents)
        else:
            torch._foreach_lerp_(averages, currents, 1.0 - self.decay)


class ExponentialAverage(WeightAveraging):
    """EMA of every parameter and buffer, updated after each optimizer step.

    ``decay`` sets how far back the average looks: about ``1 / (1 - decay)`` optimizer steps (0.999:
    the last thousand). Averaging starts after ``start_step`` steps; until then the average is the
    live weights."""

    def __init__(self, decay: float = 0.999, start_step: int = 1000) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"weight averaging decay must lie between 0 and 1, got {decay}")
        super().__init__(multi_avg_fn=FollowThenAverage(decay, start_step))
        self.decay = decay
        self.start_step = start_step
