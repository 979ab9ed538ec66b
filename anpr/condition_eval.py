"""Accuracy per detector condition: one labelled crop set, read clean and under each perturbation.

A reader that is fine on hand-cut crops can still fail on what a plate detector hands over, so the
number a user needs is the drop from clean for each condition (:mod:`anpr.perturb`), side by side.
Each perturbed copy is written to disk next to its report, so every figure can be looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from anpr.evaluation import Sample, evaluate
from anpr.perturb import perturb_dataset

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
) -> dict[str, tuple[dict[str, Any], list[Sample], Path]]:
    """``{condition: (metrics, samples, images_dir)}``, ``clean`` first, then ``conditions`` in order.

    The perturbed copies go to ``work_dir/<condition>/`` (:func:`anpr.perturb.perturb_dataset`);
    ``images_dir`` in each entry is where that condition's images are, for the mistakes grid.
    """
    results = {
        CLEAN: (*evaluate(reader, images_dir, labels_file, layouts_file, batch_size, on_progress), Path(images_dir))
    }
    folders = perturb_dataset(images_dir, labels_file, work_dir, list(conditions), layouts_file, seed)
    for condition, folder in zip(conditions, folders):
        layouts = folder / "layout.tsv" if layouts_file else None
        metrics, samples = evaluate(reader, folder / "images", folder / "labels.txt", layouts, batch_size, on_progress)
        results[condition] = (metrics, samples, folder / "images")
    return results


def condition_summary(results: dict[str, tuple[dict[str, Any], Any, Any]]) -> dict[str, dict[str, Any]]:
    """Per condition: plates, sequence accuracy, its difference from clean (points) and the
    sequence accuracy of each layout, the numbers ``conditions.json`` holds."""
    clean = results[CLEAN][0]["sequence_accuracy"]
    return {
        condition: {
            "num_samples": metrics["num_samples"],
            "sequence_accuracy": metrics["sequence_accuracy"],
            "points_below_clean": round(100 * (clean - metrics["sequence_accuracy"]), 2),
            "by_layout": {name: m["sequence_accuracy"] for name, m in metrics["by_layout"].items()},
        }
        for condition, (metrics, _, _) in results.items()
    }
