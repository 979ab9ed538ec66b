"""Evaluating a reader on a labelled set: accuracies, breakdowns, confusions, worst mistakes.

The accuracies are the torchmetrics training validates with (:mod:`anpr.evaluate.metrics`), so numbers
from ``anpr evaluate`` and from training's validation mean the same thing.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anpr.data.images import ImageReadError, read_image
from anpr.data.labels import DatasetError, LabelRecord, read_labels
from anpr.data.layouts import read_layout_tags
from anpr.data.sheets import labelled_rows, reads_grid
from anpr.evaluate.metrics import CharacterAccuracy, SequenceAccuracy, per_plate_character_accuracy
from anpr.evaluate.reliability import accuracy_at_coverage, coverage_at_accuracy, expected_calibration_error
from anpr.evaluate.significance import accuracy_interval
from anpr.grammar import plate_format, plate_groups

OTHER_FORMAT = "other"  # the format bucket of truths the plate grammar does not accept
UNKNOWN_LAYOUT = "unknown"
TOP_CONFUSIONS = 20
LABEL_WIDTH = 84  # the narrowest name column of a reads sheet


@dataclass
class Sample:
    """One labelled image and what the reader made of it."""

    record: LabelRecord
    pred: str
    confidence: float
    layout: str | None = None
    free_text: str | None = None  # the unconstrained greedy reading (None: the reader gave none)
    min_char_confidence: float | None = None  # the older confidence, kept for comparison
    tags: tuple[str, ...] = ()  # further fields of the layouts file, e.g. 'separator:dot'

    @property
    def truth(self) -> str:
        return self.record.text


def accuracies(preds: Sequence[str], truths: Sequence[str]) -> dict[str, Any]:
    """``num_samples``, ``sequence_accuracy`` with its 95% interval (:mod:`anpr.evaluate.significance`)
    and ``character_accuracy`` of a group of reads."""
    seq, char = SequenceAccuracy(), CharacterAccuracy()
    seq.update(list(preds), list(truths))
    char.update(list(preds), list(truths))
    right = sum(p == t for p, t in zip(preds, truths))
    return {
        "num_samples": len(truths),
        "sequence_accuracy": float(seq.compute()),
        "sequence_accuracy_interval": accuracy_interval(right, len(truths)),
        "character_accuracy": float(char.compute()),
    }


def align(truth: str, pred: str) -> list[tuple[str, str]]:
    """Edit-distance alignment as ``(truth_char, pred_char)`` pairs; ``''`` marks a gap.

    Ties prefer substitutions, then deletions, so ``KL07AB1234`` read as ``KL07AB1235`` pairs
    ``4`` with ``5`` and the rest with themselves.
    """
    n, m = len(truth), len(pred)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j - 1] + (truth[i - 1] != pred[j - 1]),
                cost[i - 1, j] + 1,
                cost[i, j - 1] + 1,
            )
    pairs, i, j = [], n, m
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (truth[i - 1] != pred[j - 1]):
            pairs.append((truth[i - 1], pred[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((truth[i - 1], ""))
            i -= 1
        else:
            pairs.append(("", pred[j - 1]))
            j -= 1
    return pairs[::-1]


def confusions(preds: Sequence[str], truths: Sequence[str], top: int = TOP_CONFUSIONS) -> list[dict[str, Any]]:
    """The most frequent character errors: ``{"truth", "pred", "count"}``; ``''`` for a missed
    (``pred``) or an extra (``truth``) character. Ties are ordered by the characters."""
    counts: Counter[tuple[str, str]] = Counter()
    for pred, truth in zip(preds, truths):
        counts.update((t, p) for t, p in align(truth, pred) if t != p)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"truth": t, "pred": p, "count": c} for (t, p), c in ordered[:top]]


def features(sample: Sample) -> list[str]:
    """The groups a plate belongs to beyond format and layout: its tags from the layouts file,
    and a one-digit district ('GJ1KE2245', printed 'GJ.1.KE.2245'), which models often misread."""
    found = list(sample.tags)
    if plate_format(sample.truth) == "standard" and len(plate_groups(sample.truth)[1]) == 1:
        found.append("one-digit district")
    return found


def summarize(samples: Sequence[Sample]) -> dict[str, Any]:
    """All the numbers ``metrics.json`` holds, from reads already made."""
    preds, truths = [s.pred for s in samples], [s.truth for s in samples]
    metrics = accuracies(preds, truths)
    by_format: dict[str, list[int]] = defaultdict(list)
    by_layout: dict[str, list[int]] = defaultdict(list)
    by_feature: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        for feature in features(s):
            by_feature[feature].append(i)
        fmt = plate_format(s.truth)
        by_format[OTHER_FORMAT if fmt == "invalid" else fmt].append(i)
        if s.layout is not None:
            by_layout[s.layout or UNKNOWN_LAYOUT].append(i)
    metrics["by_format"] = {k: _group(preds, truths, ids) for k, ids in sorted(by_format.items())}
    metrics["by_layout"] = {k: _group(preds, truths, ids) for k, ids in sorted(by_layout.items())}
    metrics["by_feature"] = {k: _group(preds, truths, ids) for k, ids in sorted(by_feature.items())}
    if samples and all(s.free_text is not None for s in samples):
        # The greedy reading of the same logits, to see what the decoder changed.
        free = [s.free_text for s in samples]
        metrics["greedy"] = {
            **accuracies(free, truths),
            "by_format": {k: _group(free, truths, ids) for k, ids in sorted(by_format.items())},
            "by_layout": {k: _group(free, truths, ids) for k, ids in sorted(by_layout.items())},
            "by_feature": {k: _group(free, truths, ids) for k, ids in sorted(by_feature.items())},
        }
    metrics.update(reliability(samples))
    metrics["confusions"] = confusions(preds, truths)
    return metrics


def reliability(samples: Sequence[Sample]) -> dict[str, Any]:
    """Calibration error of the confidence(s) and the risk-coverage trade-off of ``confidence``."""
    correct = [s.pred == s.truth for s in samples]
    confidences = [s.confidence for s in samples]
    ece = {"confidence": expected_calibration_error(confidences, correct)}
    if samples and all(s.min_char_confidence is not None for s in samples):
        ece["min_char_confidence"] = expected_calibration_error([s.min_char_confidence for s in samples], correct)
    return {
        "expected_calibration_error": ece,
        "accuracy_at_coverage": accuracy_at_coverage(confidences, correct),
        "coverage_at_accuracy": coverage_at_accuracy(confidences, correct),
    }


def _group(preds: Sequence[str], truths: Sequence[str], ids: list[int]) -> dict[str, Any]:
    return accuracies([preds[i] for i in ids], [truths[i] for i in ids])


def check_records(records: Sequence[LabelRecord], images_dir: Path, charset: str | None = None) -> None:
    """Every problem with the labels at once (up to 20), each naming ``file:line``."""
    problems = []
    for r in records:
        if not r.text:
            problems.append(f"{r.where}: empty text for {r.image_name!r}")
        elif charset is not None and any(c not in charset for c in r.text):
            bad = "".join(sorted({c for c in r.text if c not in charset}))
            problems.append(f"{r.where}: {r.text!r} has characters the model cannot read: {bad!r}")
        if not (images_dir / r.image_name).is_file():
            problems.append(f"{r.where}: image not found: {images_dir / r.image_name}")
    if problems:
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DatasetError(f"{len(problems)} problem(s) in the evaluation set:\n" + "\n".join(problems[:20]) + more)


def evaluate(
    reader: Any,
    images_dir: str | Path,
    labels_file: str | Path,
    layouts_file: str | Path | None = None,
    batch_size: int = 64,
    on_progress: Callable[[int], Any] | None = None,
) -> tuple[dict[str, Any], list[Sample]]:
    """Read every labelled image with ``reader`` (anything with ``read(images, rgb=True)``).

    Raises:
        DatasetError: bad labels, missing or unreadable images (naming ``file:line``).
    """
    images_dir = Path(images_dir)
    records = read_labels(labels_file)
    check_records(records, images_dir, getattr(getattr(reader, "charset", None), "characters", None))
    layouts = read_layout_tags(layouts_file) if layouts_file else None
    samples: list[Sample] = []
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        images = []
        for r in chunk:
            try:
                images.append(read_image(images_dir / r.image_name))
            except ImageReadError as err:
                raise DatasetError(f"{r.where}: {err}") from err
        for r, read in zip(chunk, reader.read(images, rgb=True, batch_size=batch_size)):
            fields = [] if layouts is None else layouts.get(r.image_name) or [""]
            layout = None if layouts is None else fields[0]
            samples.append(
                Sample(
                    r,
                    read.text,
                    float(read.confidence),
                    layout,
                    getattr(read, "free_text", None),
                    getattr(read, "min_char_confidence", None),
                    tuple(fields[1:]),
                )
            )
        if on_progress is not None:
            on_progress(len(chunk))
    return summarize(samples), samples


def worst_mistakes(samples: Sequence[Sample], count: int = 24) -> list[Sample]:
    """Wrong reads, lowest character accuracy first (then lowest confidence)."""
    wrong = [s for s in samples if s.pred != s.truth]
    if not wrong:
        return []
    scores = per_plate_character_accuracy([s.pred for s in wrong], [s.truth for s in wrong]).tolist()
    order = sorted(range(len(wrong)), key=lambda i: (scores[i], wrong[i].confidence, wrong[i].record.line_number))
    return [wrong[i] for i in order[:count]]


def mistakes_grid(
    samples: Sequence[Sample], images_dir: str | Path, size: tuple[int, int], columns: int = 4
) -> np.ndarray | None:
    """An RGB grid of the given reads, each resized to ``size`` (height, width: the model's input)
    and captioned ``pred | truth``."""
    import cv2

    if not samples:
        return None
    height, width = size
    crops = [cv2.resize(read_image(Path(images_dir) / s.record.image_name), (width, height)) for s in samples]
    return reads_grid(list(crops), [s.pred for s in samples], [s.truth for s in samples], columns)


def reads_sheet(
    rows: dict[str, tuple[Sequence[Sample], str | Path]], chosen: Sequence[int], size: tuple[int, int]
) -> np.ndarray | None:
    """An RGB sheet of the same plates (``chosen`` indices) read several ways, a named row each
    (a condition, a model): each crop as the model sees it, captioned with that row's read."""
    if not chosen:
        return None
    rows = {
        name: mistakes_grid([samples[i] for i in chosen], images_dir, size, columns=len(chosen))
        for name, (samples, images_dir) in rows.items()
    }
    return labelled_rows(rows, min_label_width=LABEL_WIDTH)


def write_report(
    metrics: dict[str, Any],
    samples: Sequence[Sample],
    images_dir: str | Path,
    out_dir: str | Path,
    size: tuple[int, int],
    worst: int = 24,
) -> dict[str, Path]:
    """``metrics.json``, ``predictions.tsv``, ``coverage.png`` and ``worst_mistakes.png`` (if any
    read was wrong; crops at ``size``, the model's input height and width)."""
    import cv2

    from anpr.evaluate.reliability import write_coverage_plot

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"metrics": out_dir / "metrics.json", "predictions": out_dir / "predictions.tsv"}
    grid = mistakes_grid(worst_mistakes(samples, worst), images_dir, size)
    if grid is not None:
        written["worst_mistakes"] = out_dir / "worst_mistakes.png"
        cv2.imwrite(str(written["worst_mistakes"]), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    if samples:
        correct = [s.pred == s.truth for s in samples]
        curves = {"confidence (probability of the reading)": ([s.confidence for s in samples], correct)}
        if all(s.min_char_confidence is not None for s in samples):
            curves["min. character probability"] = ([s.min_char_confidence for s in samples], correct)
        written["coverage"] = write_coverage_plot(curves, out_dir / "coverage.png", f"{len(samples)} plates")
    metrics = {**metrics, "worst_mistakes": str(written.get("worst_mistakes", "")) or None}
    written["metrics"].write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    char_acc = per_plate_character_accuracy([s.pred for s in samples], [s.truth for s in samples]).tolist()
    lines = ["image\ttruth\tpred\tconfidence\tcharacter_accuracy\tlayout\tgreedy"]
    lines += [
        f"{s.record.image_name}\t{s.truth}\t{s.pred}\t{s.confidence:.6g}\t{a:.4f}\t{s.layout or ''}"
        f"\t{s.free_text if s.free_text is not None else ''}"
        for s, a in zip(samples, char_acc)
    ]
    written["predictions"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written
