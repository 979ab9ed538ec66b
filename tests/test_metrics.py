"""Sequence and character accuracy on hand-made cases, including insertions and deletions."""

from __future__ import annotations

import pytest
import torch

from anpr.evaluate.metrics import CharacterAccuracy, SequenceAccuracy


def char_acc(preds, targets) -> float:
    metric = CharacterAccuracy()
    metric.update(preds, targets)
    return float(metric.compute())


def test_one_wrong_character_of_ten_is_ninety_percent() -> None:
    assert char_acc(["KL07AB1235"], ["KL07AB1234"]) == pytest.approx(0.9)


def test_an_insertion_costs_one_character_not_the_rest_of_the_plate() -> None:
    assert char_acc(["KL077AB1234"], ["KL07AB1234"]) == pytest.approx(0.9)


def test_a_deletion_costs_one_character() -> None:
    assert char_acc(["KL07B1234"], ["KL07AB1234"]) == pytest.approx(0.9)


def test_character_accuracy_is_floored_at_zero_and_averaged_per_plate() -> None:
    assert char_acc(["ABCDEFGHIJKL"], ["XY"]) == 0.0
    assert char_acc(["", "MH12DE1433"], ["MH12DE1433", "MH12DE1433"]) == pytest.approx(0.5)


def test_sequence_accuracy_counts_exact_plates_across_updates() -> None:
    metric = SequenceAccuracy()
    metric.update(["KL07AB1234", "MH12DE1433"], ["KL07AB1234", "MH12DE1434"])
    metric.update(["DL4CAF1234"], ["DL4CAF1234"])
    assert float(metric.compute()) == pytest.approx(2 / 3)
    metric.reset()
    metric.update(["A"], ["B"])
    assert float(metric.compute()) == 0.0


def test_metrics_refuse_mismatched_batches() -> None:
    with pytest.raises(ValueError):
        SequenceAccuracy().update(["A"], ["A", "B"])


def test_metric_states_sum_across_processes() -> None:
    metric = CharacterAccuracy()
    assert metric._reductions["score"] is not None and metric._reductions["total"] is not None
    metric.update(["AB"], ["AB"])
    assert metric.total.dtype == torch.long
