"""How far a reader's confidence can be trusted: calibration error and the risk-coverage trade-off.

A deployment keeps the reads it is sure of and sends the rest to a person; these numbers say what
that buys: the accuracy of the reads kept at a given coverage, and the coverage at which the kept
reads reach a target accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

COVERAGES = (0.8, 0.9, 0.95, 1.0)
TARGET_ACCURACIES = (0.99,)


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their size."""
    conf = np.asarray(confidences, dtype=np.float64)
    right = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return float("nan")
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(right[members].mean() - conf[members].mean())
    return float(total / conf.size)


def _ranked_hits(confidences: Sequence[float], correct: Sequence[bool]) -> np.ndarray:
    order = np.argsort(-np.asarray(confidences, dtype=np.float64), kind="stable")
    return np.asarray(correct, dtype=np.float64)[order]


def accuracy_at_coverage(
    confidences: Sequence[float], correct: Sequence[bool], coverages: Sequence[float] = COVERAGES
) -> dict[str, float]:
    """Accuracy of the most confident ``coverage`` share of the reads, for each coverage."""
    hits = _ranked_hits(confidences, correct)
    out = {}
    for coverage in coverages:
        kept = max(1, math.ceil(coverage * len(hits) - 1e-9)) if len(hits) else 0
        out[f"{coverage:g}"] = float(hits[:kept].mean()) if kept else float("nan")
    return out


def coverage_at_accuracy(
    confidences: Sequence[float], correct: Sequence[bool], targets: Sequence[float] = TARGET_ACCURACIES
) -> dict[str, float]:
    """The largest share of reads, most confident first, whose accuracy is at least each target."""
    hits = _ranked_hits(confidences, correct)
    if not len(hits):
        return {f"{t:g}": float("nan") for t in targets}
    running = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    out = {}
    for target in targets:
        reaching = np.flatnonzero(running >= target - 1e-12)
        out[f"{target:g}"] = float((reaching[-1] + 1) / len(hits)) if reaching.size else 0.0
    return out


def coverage_curve(confidences: Sequence[float], correct: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, accuracy of the reads kept) for every cut, most confident first."""
    hits = _ranked_hits(confidences, correct)
    kept = np.arange(1, len(hits) + 1)
    return kept / max(len(hits), 1), np.cumsum(hits) / kept


def write_coverage_plot(
    curves: dict[str, tuple[Sequence[float], Sequence[bool]]], path: str | Path, title: str = ""
) -> Path:
    """``coverage.png``: accuracy of the kept reads against coverage, one line per confidence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for label, (confidences, correct) in curves.items():
        coverage, accuracy = coverage_curve(confidences, correct)
        ax.plot(coverage * 100, accuracy * 100, label=label)
    ax.axhline(99, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("coverage: reads kept, most confident first (%)")
    ax.set_ylabel("sequence accuracy of the kept reads (%)")
    ax.set_xlim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
