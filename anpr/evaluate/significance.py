"""How far a measured accuracy can be trusted: intervals and paired tests on plate reads.

A hundred real crops is a typical evaluation set, and on it one plate is one point of accuracy:
90.1% of 101 plates is consistent with anything from about 83% to 95% on such plates in
general. These numbers say when a difference between two models or two conditions is evidence
and when it is a handful of plates (scipy's exact binomial test underneath).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LEVEL = 0.95  # the confidence level of every interval reported


def accuracy_interval(correct: int, total: int, level: float = LEVEL) -> list[float]:
    """``[low, high]``: the Wilson score interval of ``correct`` of ``total`` plates read right
    (``[0, 1]`` for no plates). Unlike the normal approximation it stays inside 0-1 and is
    honest near 100%, where good readers are."""
    from scipy.stats import binomtest

    if total == 0:
        return [0.0, 1.0]
    interval = binomtest(int(correct), int(total)).proportion_ci(level, method="wilson")
    return [float(interval.low), float(interval.high)]


def paired_change(before: Sequence[bool], after: Sequence[bool]) -> dict[str, Any]:
    """The same plates read twice (clean and perturbed, or by two models): how many reads went
    from right to wrong (``broken``) and wrong to right (``fixed``), and the exact McNemar
    p-value, the chance of a split at least this uneven if neither read were better."""
    from scipy.stats import binomtest

    if len(before) != len(after):
        raise ValueError(f"paired reads of {len(before)} and {len(after)} plates: they must be the same plates")
    broken = sum(b and not a for b, a in zip(before, after))
    fixed = sum(a and not b for b, a in zip(before, after))
    p_value = binomtest(broken, broken + fixed, 0.5).pvalue if broken + fixed else 1.0
    return {"broken": broken, "fixed": fixed, "p_value": float(p_value)}
