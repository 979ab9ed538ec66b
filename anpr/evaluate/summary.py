"""The tables and lines `anpr evaluate` prints, from an :class:`~anpr.evaluate.run.EvaluationRun`."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from anpr.evaluate.conditions import CLEAN
from anpr.evaluate.run import EvaluationRun, model_names


def interval(bounds: list[float]) -> str:
    low, high = bounds
    return f"{low:.1%}-{high:.1%}"


def accuracy_table(run: EvaluationRun) -> Table:
    """Sequence and character accuracy overall, by format, layout and feature (and greedy's)."""
    metrics = run.metrics
    greedy = metrics.get("greedy") if run.decoder != "greedy" else None
    table = Table(
        title=f"{run.model.name} on {run.labels_file.name} ({run.num_samples} plates, {run.decoder} decoding)"
    )
    columns = ["group", "plates", "sequence acc.", "95% interval", "character acc."]
    for column in columns + (["greedy seq. acc."] if greedy else []):
        table.add_column(column, justify="left" if column == "group" else "right")

    def row(name: str, m: dict, g: dict | None) -> None:
        seq = [f"{m['sequence_accuracy']:.2%}", interval(m["sequence_accuracy_interval"])]
        cells = [name, str(m["num_samples"]), *seq, f"{m['character_accuracy']:.2%}"]
        table.add_row(*cells, *([f"{g['sequence_accuracy']:.2%}"] if g else []))

    row("all", metrics, greedy)
    for kind, prefix in (("by_format", "format: "), ("by_layout", "layout: "), ("by_feature", "")):
        for name, m in metrics[kind].items():
            row(f"{prefix}{name}", m, greedy and greedy[kind][name])
    return table


def accuracy_notes(run: EvaluationRun) -> list[str]:
    """Confidence, calibration and confusions, one line each."""
    metrics = run.metrics
    at, ece = metrics["accuracy_at_coverage"], metrics["expected_calibration_error"]
    lines = [
        "Accuracy of the most confident reads: "
        + ", ".join(f"{float(c):.0%} kept {a:.2%}" for c, a in at.items())
        + f"; 99% accuracy up to {metrics['coverage_at_accuracy']['0.99']:.1%} coverage",
        "Expected calibration error: " + ", ".join(f"{name} {value:.3f}" for name, value in ece.items()),
        "95% interval: where the accuracy on all such plates lies, given these (Wilson score); "
        "differences inside it may be a few plates' luck",
    ]
    if run.layouts_file:
        lines.append(f"Layouts from {run.layouts_file}")
    if metrics["confusions"]:
        top = ", ".join(f"{c['truth'] or '∅'}→{c['pred'] or '∅'} ×{c['count']}" for c in metrics["confusions"][:10])
        lines.append(f"Most frequent confusions (truth→read): {top}")
    return lines


def conditions_table(summary: dict[str, dict[str, Any]]) -> Table:
    """Each detector condition's accuracy and its change from the clean crops."""
    layouts = sorted({name for row in summary.values() for name in row["by_layout"]})
    table = Table(title="By detector condition (perturbed copies of the same crops)")
    columns = ["condition", "plates", "sequence acc.", "95% interval", "points below clean", "broken / fixed", "p"]
    for column in [*columns, *layouts]:
        table.add_column(column, justify="left" if column == "condition" else "right")
    for condition, row in summary.items():
        by_layout = [f"{row['by_layout'][name]:.2%}" if name in row["by_layout"] else "" for name in layouts]
        accuracy = [f"{row['sequence_accuracy']:.2%}", interval(row["sequence_accuracy_interval"])]
        change = ["", "", ""]
        if condition != CLEAN:
            broken_fixed = f"{row['plates_broken']} / {row['plates_fixed']}"
            change = [f"{row['points_below_clean']:.1f}", broken_fixed, f"{row['drop_p_value']:.2g}"]
        table.add_row(condition, str(row["num_samples"]), *accuracy, *change, *by_layout)
    return table


CONDITIONS_NOTE = (
    "broken / fixed: plates read right clean and wrong under the condition, and the reverse; "
    "p: the chance of a split at least that uneven if the condition made no difference (exact McNemar)"
)
COMPARISON_NOTE = (
    "only X: plates that model reads right and the other wrong; p: the chance of a split at least "
    "that uneven if the two read equally well (exact McNemar)"
)


def comparison_table(run: EvaluationRun) -> Table:
    """Both models' accuracies and the plates only one of them reads, by layout or condition."""
    comparison, names = run.comparison or {}, model_names(run)
    if "by_condition" in comparison:
        first_column, groups = "condition", comparison["by_condition"]
    else:
        first_column = "group"
        groups = {"all": comparison, **{f"layout: {k}": v for k, v in comparison["by_layout"].items()}}
    table = Table(title=f"{names[1]} against {names[0]} on the same {comparison['num_samples']} plates")
    columns = [first_column, "plates", *names, "points gained", f"only {names[0]}", f"only {names[1]}", "p"]
    for column in columns:
        table.add_column(column, justify="left" if column == first_column else "right")
    for group, m in groups.items():
        accuracies = [f"{m['first_sequence_accuracy']:.2%}", f"{m['second_sequence_accuracy']:.2%}"]
        split = [str(m["only_first"]), str(m["only_second"]), f"{m['p_value']:.2g}"]
        table.add_row(group, str(m["num_samples"]), *accuracies, f"{m['points_gained']:+.1f}", *split)
    return table


def differing_lines(run: EvaluationRun, count: int = 20) -> list[str]:
    """The first ``count`` plates only one model reads, with both reads."""
    names = model_names(run)
    return [
        f"  {p['image']}: truth {p['truth']}, {names[0]} {p['first'] or '∅'}, {names[1]} {p['second'] or '∅'}"
        for p in (run.comparison or {}).get("plates", [])[:count]
    ]
