"""Plate-reading metrics as torchmetrics ``Metric`` classes, so they sync across devices."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import Metric
from torchmetrics.functional.text import edit_distance


class SequenceAccuracy(Metric):
    """Fraction of plates read exactly right."""

    higher_is_better = True
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("correct", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Sequence[str], targets: Sequence[str]) -> None:
        _check_lengths(preds, targets)
        self.correct += sum(p == t for p, t in zip(preds, targets))
        self.total += len(targets)

    def compute(self) -> torch.Tensor:
        return self.correct.float() / self.total.clamp(min=1)


class CharacterAccuracy(Metric):
    """Mean over plates of ``max(0, 1 - edit_distance / len(target))``.

    One wrong character in a 10-character plate gives 0.9; one inserted character costs one
    character, not the rest of the plate (positional comparison would get this wrong).
    """

    higher_is_better = True
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("score", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Sequence[str], targets: Sequence[str]) -> None:
        _check_lengths(preds, targets)
        if not targets:
            return
        self.score += per_plate_character_accuracy(preds, targets).sum().to(self.score)
        self.total += len(targets)

    def compute(self) -> torch.Tensor:
        return (self.score / self.total.clamp(min=1)).float()


def per_plate_character_accuracy(preds: Sequence[str], targets: Sequence[str]) -> torch.Tensor:
    """Character accuracy of each plate (edit distance from torchmetrics)."""
    distances = edit_distance(list(preds), list(targets), reduction="none").double()
    lengths = torch.tensor([max(len(t), 1) for t in targets], dtype=torch.float64)
    return (1.0 - distances / lengths).clamp(min=0.0)


def _check_lengths(preds: Sequence[str], targets: Sequence[str]) -> None:
    if len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions for {len(targets)} targets")
