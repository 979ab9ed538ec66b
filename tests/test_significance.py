"""How far an accuracy can be trusted: Wilson intervals and the paired McNemar test."""

from __future__ import annotations

import pytest

from anpr.evaluate.significance import accuracy_interval, paired_change


def test_the_interval_holds_the_accuracy_and_narrows_with_more_plates() -> None:
    ten = accuracy_interval(9, 10)
    thousand = accuracy_interval(900, 1000)
    assert ten[0] < 0.9 < ten[1] and thousand[0] < 0.9 < thousand[1]
    assert thousand[1] - thousand[0] < (ten[1] - ten[0]) / 5
    # Wilson's closed form for 9 of 10 (z = 1.96): 0.5958-0.9821
    assert ten == [pytest.approx(0.5958, abs=1e-4), pytest.approx(0.9821, abs=1e-4)]


def test_the_interval_stays_inside_0_and_1() -> None:
    low, high = accuracy_interval(10, 10)
    assert high == pytest.approx(1.0) and 0.65 < low < 0.75
    assert accuracy_interval(0, 5)[0] == pytest.approx(0.0)
    assert accuracy_interval(0, 0) == [0.0, 1.0]


def test_paired_change_counts_broken_and_fixed_plates_and_tests_the_split() -> None:
    before = [True] * 8 + [False] * 2
    after = [True, True, True, False, False, False, False, False, True, False]
    change = paired_change(before, after)
    assert (change["broken"], change["fixed"]) == (5, 1)
    # Exact two-sided binomial on 5 of 6 discordant plates: 2 * (6 + 1) / 64
    assert change["p_value"] == pytest.approx(14 / 64)
    assert paired_change(before, before) == {"broken": 0, "fixed": 0, "p_value": 1.0}
    with pytest.raises(ValueError, match="same plates"):
        paired_change(before, after[:5])
