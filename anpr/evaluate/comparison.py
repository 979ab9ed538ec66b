"""Two readers on the same labelled plates: the plates each reads that the other does not.

On a hundred crops two models a few points apart are not told apart by their accuracies (their
95% intervals overlap, :mod:`anpr.evaluate.significance`). The pairing does: which plates only one of
them reads, and whether a split that uneven could be luck (exact McNemar). That decides between
a fine-tune and the model it started from, or between two recipes, on a user's own crops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from anpr.evaluate.report import Sample
from anpr.evaluate.significance import paired_change


def compare_reads(first: Sequence[Sample], second: Sequence[Sample]) -> dict[str, Any]:
    """``second`` against ``first`` on the same plates: both accuracies, the points gained, the
    plates only one reads (``only_first``, ``only_second``) with the McNemar p of that split,
    the same by layout, and each plate where exactly one of them is right."""
    if [s.record.image_name for s in first] != [s.record.image_name for s in second]:
        raise ValueError("the two sets of reads are not of the same images in the same order")
    first_right = [s.pred == s.truth for s in first]
    second_right = [s.pred == s.truth for s in second]
    layouts = sorted({s.layout for s in first if s.layout})
    by_layout = {}
    for layout in layouts:
        ids = [i for i, s in enumerate(first) if s.layout == layout]
        by_layout[layout] = _split([first_right[i] for i in ids], [second_right[i] for i in ids])
    plates = [
        {"image": a.record.image_name, "truth": a.truth, "first": a.pred, "second": b.pred, "layout": a.layout or ""}
        for a, b, ra, rb in zip(first, second, first_right, second_right)
        if ra != rb
    ]
    return {**_split(first_right, second_right), "by_layout": by_layout, "plates": plates}


def _split(first_right: Sequence[bool], second_right: Sequence[bool]) -> dict[str, Any]:
    n = len(first_right)
    change = paired_change(first_right, second_right)
    first, second = sum(first_right) / max(n, 1), sum(second_right) / max(n, 1)
    return {
        "num_samples": n,
        "first_sequence_accuracy": first,
        "second_sequence_accuracy": second,
        "points_gained": round(100 * (second - first), 2),
        "only_first": change["broken"],
        "only_second": change["fixed"],
        "p_value": change["p_value"],
    }


def differing_plates(first: Sequence[Sample], second: Sequence[Sample], count: int = 12) -> list[int]:
    """Indices of up to ``count`` plates exactly one reader reads right, in the set's order."""
    return [i for i, (a, b) in enumerate(zip(first, second)) if (a.pred == a.truth) != (b.pred == b.truth)][:count]
