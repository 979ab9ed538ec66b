"""Accuracy per detector condition: one labelled crop set, read clean and under each perturbation.

A reader that is fine on hand-cut crops can still fail on what a plate detector hands over, so the
number a user needs is the drop from clean for each condition (:mod:`anpr.evaluate.perturb`), side by side.
Each perturbed copy is written to disk next to its report, so every figure can be looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anpr.evaluate.perturb import perturb_dataset
from anpr.evaluate.report import Sample, evaluate, reads_sheet
from anpr.evaluate.significance import paired_change

CLEAN = "clean"


def evaluate_conditions(
    reader: Any,
    images_dir: str | Path,
    labels_file: str | Path,
    layouts_file: str | Path | None,
    conditions: Sequence[str],
    work_dir: str | Path,
    seed: int = 0,
    batch_size: int = 64,
    on_progress: Callable[[int], Any] | None = None,
    write_copies: bool = True,
) -> dict[str, tuple[dict[str, Any], list[Sample], Path]]:
    """``{condition: (metrics, samples, images_dir)}``, ``clean`` first, then ``conditions`` in order.

    The perturbed copies go to ``work_dir/<condition>/`` (:func:`anpr.evaluate.perturb.perturb_dataset`);
    ``images_dir`` in each entry is where that condition's images are, for the mistakes grid.
    ``write_copies=False`` reads the copies an earlier call wrote there (a second model).
    """
    results = {
        CLEAN: (*evaluate(reader, images_dir, labels_file, layouts_file, batch_size, on_progress), Path(images_dir))
    }
    if write_copies:
        folders = perturb_dataset(images_dir, labels_file, work_dir, list(conditions), layouts_file, seed)
    else:
        folders = [Path(work_dir) / condition for condition in conditions]
    for condition, folder in zip(conditions, folders):
        layouts = folder / "layout.tsv" if layouts_file else None
        metrics, samples = evaluate(reader, folder / "images", folder / "labels.txt", layouts, batch_size, on_progress)
        results[condition] = (metrics, samples, folder / "images")
    return results


def condition_summary(results: dict[str, tuple[dict[str, Any], Any, Any]]) -> dict[str, dict[str, Any]]:
    """Per condition: plates, sequence accuracy and its 95% interval, its difference from clean
    (points) with the plates the condition broke and fixed and how likely such a split is by
    chance (:func:`anpr.evaluate.significance.paired_change`), and the sequence accuracy of each layout:
    the numbers ``conditions.json`` holds."""
    clean_metrics, clean_samples, _ = results[CLEAN]
    clean_right = [s.pred == s.truth for s in clean_samples]
    summary = {}
    for condition, (metrics, samples, _) in results.items():
        if [s.truth for s in samples] != [s.truth for s in clean_samples]:
            raise ValueError(f"the {condition} reads are not of the clean crops' plates, in their order")
        change = paired_change(clean_right, [s.pred == s.truth for s in samples])
        summary[condition] = {
            "num_samples": metrics["num_samples"],
            "sequence_accuracy": metrics["sequence_accuracy"],
            "sequence_accuracy_interval": metrics["sequence_accuracy_interval"],
            "points_below_clean": round(100 * (clean_metrics["sequence_accuracy"] - metrics["sequence_accuracy"]), 2),
            "plates_broken": change["broken"],
            "plates_fixed": change["fixed"],
            "drop_p_value": change["p_value"],
            "by_layout": {name: m["sequence_accuracy"] for name, m in metrics["by_layout"].items()},
        }
    return summary


def sheet_plates(results: dict[str, tuple[dict[str, Any], list[Sample], Any]], count: int) -> list[int]:
    """Which plates the sheet shows: first those read right clean and wrong under the most
    conditions (what the conditions break), then the rest in order."""
    clean = results[CLEAN][1]
    broken = [
        sum(samples[i].pred != samples[i].truth for name, (_, samples, _) in results.items() if name != CLEAN)
        if clean[i].pred == clean[i].truth
        else 0
        for i in range(len(clean))
    ]
    return sorted(range(len(clean)), key=lambda i: -broken[i])[:count]


def conditions_sheet(
    results: dict[str, tuple[dict[str, Any], list[Sample], Path]], size: tuple[int, int], count: int = 6
) -> np.ndarray | None:
    """An RGB sheet: a row per condition, the same plates in every row, each as the model sees it
    (resized to its input) and captioned with its read (red with the truth when wrong)."""
    rows = {condition: (samples, images_dir) for condition, (_, samples, images_dir) in results.items()}
    return reads_sheet(rows, sheet_plates(results, count), size)
