"""Plain and focal CTC: the same per-character loss as PyTorch's, and hard plates weighted up."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from anpr.train.losses import plate_ctc_loss


def batch(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(12, 3, 6, generator=generator).log_softmax(-1)  # (T, B, C)
    targets = torch.tensor([1, 2, 3, 4, 5, 1, 2, 3, 4])
    target_lengths = torch.tensor([3, 2, 4])
    input_lengths = torch.full((3,), 12, dtype=torch.long)
    return log_probs, targets, input_lengths, target_lengths


def test_plain_ctc_is_pytorchs_mean_ctc_loss() -> None:
    args = batch()
    expected = nn.CTCLoss(blank=0, reduction="mean", zero_infinity=True)(*args)
    assert torch.allclose(plate_ctc_loss(*args), expected)


def test_focal_ctc_weights_each_plate_by_one_minus_its_probability() -> None:
    log_probs, targets, input_lengths, target_lengths = batch()
    per_plate = nn.CTCLoss(blank=0, reduction="none")(log_probs, targets, input_lengths, target_lengths)
    gamma = 2.0
    expected = ((1 - torch.exp(-per_plate)) ** gamma * per_plate / target_lengths).mean()
    focal = plate_ctc_loss(log_probs, targets, input_lengths, target_lengths, name="focal_ctc", focal_gamma=gamma)
    assert torch.allclose(focal, expected)
    assert focal < plate_ctc_loss(log_probs, targets, input_lengths, target_lengths)


def test_focal_ctc_barely_counts_a_plate_the_model_already_reads() -> None:
    logits = torch.zeros(3, 1, 3)
    logits[0, 0, 1] = logits[1, 0, 0] = logits[2, 0, 2] = 6.0  # reads "12" with p ~ 0.99
    easy = (logits.log_softmax(-1), torch.tensor([1, 2]), torch.tensor([3]), torch.tensor([2]))
    hard = (torch.zeros(3, 1, 3).log_softmax(-1), *easy[1:])  # every reading equally likely
    ratio = [float(plate_ctc_loss(*a, name="focal_ctc", focal_gamma=2.0) / plate_ctc_loss(*a)) for a in (easy, hard)]
    assert ratio[0] < 1e-3 and ratio[1] > 0.5


def test_gamma_zero_is_plain_ctc_and_an_unknown_loss_is_refused() -> None:
    args = batch(1)
    assert torch.allclose(plate_ctc_loss(*args, name="focal_ctc", focal_gamma=0.0), plate_ctc_loss(*args))
    with pytest.raises(ValueError, match="focal_ctc"):
        plate_ctc_loss(*args, name="ctc_focal")


def test_alignment_loss_is_the_cross_entropy_at_the_step_under_each_character() -> None:
    from anpr.train.losses import alignment_loss

    log_probs = torch.randn(2, 8, 5).log_softmax(-1)  # 2 rows x 4 columns
    targets = torch.tensor([1, 2, 3, 4, 1])  # plate 0: "12" one line; plate 1: "34" over "1"
    lengths = torch.tensor([2, 3])
    char_x = torch.tensor([0.1, 0.6, 0.3, 0.8, 0.55])
    char_line = torch.tensor([0, 0, 0, 0, 1])
    # Lines fill the rows from the bottom: the one-line plate is read from the bottom row, like
    # the two-line plate's bottom line; its top line is read from the top row.
    expected = -torch.stack(
        [log_probs[0, 4 + 0, 1], log_probs[0, 4 + 2, 2], log_probs[1, 1, 3], log_probs[1, 3, 4], log_probs[1, 4 + 2, 1]]
    ).mean()
    assert torch.allclose(alignment_loss(log_probs, targets, lengths, char_x, char_line, rows=2), expected)


def test_alignment_loss_skips_unknown_positions_and_two_line_plates_on_one_row() -> None:
    from anpr.train.losses import alignment_loss

    log_probs = torch.randn(2, 4, 5).log_softmax(-1)
    targets, lengths = torch.tensor([1, 2, 3, 4, 1]), torch.tensor([2, 3])
    char_x = torch.tensor([0.1, float("nan"), 0.3, 0.8, 0.55])
    char_line = torch.tensor([0, 0, 0, 0, 1])
    # One row: the two-line plate 1 is left out entirely; plate 0's unknown character too.
    assert torch.allclose(alignment_loss(log_probs, targets, lengths, char_x, char_line, rows=1), -log_probs[0, 0, 1])
    nothing = torch.full((5,), float("nan"))
    zero = alignment_loss(log_probs, targets, lengths, nothing, char_line, rows=1)
    assert zero.item() == 0.0
