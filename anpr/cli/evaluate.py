"""Evaluate a checkpoint (.ckpt) or ONNX model (.onnx) on a labelled plate set.

    anpr evaluate model.onnx --images-dir data/val/images --labels-file data/val/labels.txt
    python scripts/evaluate.py model.onnx ...                                  # the same

Writes metrics.json (sequence accuracy with its 95% interval, character accuracy, by plate
format, by layout, the greedy reading's accuracy next to the decoder's, calibration error,
accuracy at 80/90/95/100% coverage and the coverage at 99% accuracy, character confusions),
predictions.tsv, coverage.png and worst_mistakes.png to --out, and prints a summary.

    anpr evaluate model.onnx --images-dir crops/images --labels-file crops/labels.txt --conditions all

also reads perturbed copies of the set, one per detector condition (anpr/perturb.py: loose and cut
boxes, rotation, JPEG, night, 16 px, motion blur), and prints each condition's accuracy and its
drop from the clean crops, with the plates it broke and fixed and whether that drop could be
chance; conditions.json holds them, conditions.png shows the same plates under each condition,
and --out/conditions/<name>/ holds each copy and its report.

    anpr evaluate finetuned.ckpt --images-dir crops/images --labels-file crops/labels.txt --compare pretrained

also reads the set with a second model and prints the plates only one of the two reads, with the
chance of such a split if they read equally well (with --conditions: under each condition);
comparison.json and comparison.png hold them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from anpr.cli.decoder_options import add_decoding_arguments, decoding_options


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    from anpr.evaluate.perturb import CONDITIONS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="checkpoint (.ckpt) or ONNX file (.onnx)")
    p.add_argument("--images-dir", type=Path, required=True, help="folder the labels' image names are relative to")
    p.add_argument("--labels-file", type=Path, required=True, help="lines 'image_name<TAB>TEXT'")
    p.add_argument(
        "--layouts-file",
        type=Path,
        default=None,
        help="lines 'image_name<TAB>one-line|two-line' (default: layout.tsv beside the images "
        "folder or the labels file, if present)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (default: outputs/evaluate/<model>-<date_time>)"
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the model (default: all)")
    p.add_argument("--worst", type=int, default=24, help="wrong reads shown in worst_mistakes.png")
    p.add_argument(
        "--conditions",
        nargs="+",
        default=None,
        choices=[*CONDITIONS, "all"],
        metavar="CONDITION",
        help=f"also read perturbed copies of the set: {', '.join(CONDITIONS)}, or all",
    )
    p.add_argument("--perturb-seed", type=int, default=0, help="seed of the perturbed copies (--conditions)")
    p.add_argument(
        "--compare",
        type=Path,
        default=None,
        metavar="OTHER_MODEL",
        help="also read the set with a second model and report the plates only one of them reads",
    )
    add_decoding_arguments(p, review=False)
    return p


def parse_args(argv=None) -> argparse.Namespace:
    from anpr.evaluate.perturb import CONDITIONS

    args = build_parser().parse_args(argv)
    if args.conditions:
        args.conditions = list(CONDITIONS) if "all" in args.conditions else list(dict.fromkeys(args.conditions))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from anpr.cli.console import report_error, stdout_console
    from anpr.data.labels import DatasetError
    from anpr.data.layouts import find_layouts_file
    from anpr.evaluate.conditions import CLEAN, condition_summary, conditions_sheet, evaluate_conditions
    from anpr.evaluate.report import evaluate, write_report
    from anpr.grammar import GrammarError
    from anpr.inference import CheckpointError, PlateReader

    console, err = stdout_console(), Console(stderr=True)
    layouts_file = args.layouts_file or find_layouts_file(args.images_dir, args.labels_file)
    out = args.out or Path("outputs/evaluate") / f"{args.model.stem}-{time.strftime('%Y-%m-%d_%H-%M-%S')}"
    try:
        reader = PlateReader.from_path(args.model, threads=args.threads, **decoding_options(args))
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Evaluating", total=None)
            read_set = (args.images_dir, args.labels_file, layouts_file)
            if args.conditions:
                results = evaluate_conditions(
                    reader,
                    *read_set,
                    args.conditions,
                    out / "conditions",
                    args.perturb_seed,
                    args.batch_size,
                    on_progress=lambda n: progress.advance(task, n),
                )
            else:
                metrics, samples = evaluate(
                    reader, *read_set, args.batch_size, on_progress=lambda n: progress.advance(task, n)
                )
                results = {CLEAN: (metrics, samples, args.images_dir)}
            if args.compare:
                other = PlateReader.from_path(args.compare, threads=args.threads, **decoding_options(args))
                other_results = evaluate_conditions(
                    other,
                    *read_set,
                    args.conditions or [],
                    out / "conditions",
                    batch_size=args.batch_size,
                    on_progress=lambda n: progress.advance(task, n),
                    write_copies=False,  # the first model's copies, read as they are
                )
    except (CheckpointError, DatasetError, GrammarError, OSError) as e:
        report_error(str(e))
        return 2

    decoding = {"decoder": args.decoder, "grammar": args.grammar}
    metrics, samples, _ = results[CLEAN]
    metrics = {**decoding, **metrics}
    written = write_report(metrics, samples, args.images_dir, out, args.worst)
    for condition, (m, s, images) in results.items():
        if condition != CLEAN:
            write_report(
                {**decoding, "condition": condition, **m}, s, images, out / "conditions" / condition, args.worst
            )
    greedy = metrics.get("greedy") if args.decoder != "greedy" else None
    table = Table(
        title=f"{args.model.name} on {args.labels_file.name} ({len(samples)} plates, {args.decoder} decoding)"
    )
    columns = ["group", "plates", "sequence acc.", "95% interval", "character acc."]
    for column in columns + (["greedy seq. acc."] if greedy else []):
        table.add_column(column, justify="left" if column == "group" else "right")

    def row(name: str, m: dict, g: dict | None) -> None:
        seq = [f"{m['sequence_accuracy']:.2%}", _interval(m["sequence_accuracy_interval"])]
        cells = [name, str(m["num_samples"]), *seq, f"{m['character_accuracy']:.2%}"]
        table.add_row(*cells, *([f"{g['sequence_accuracy']:.2%}"] if g else []))

    row("all", metrics, greedy)
    for name, m in metrics["by_format"].items():
        row(f"format: {name}", m, greedy and greedy["by_format"][name])
    for name, m in metrics["by_layout"].items():
        row(f"layout: {name}", m, greedy and greedy["by_layout"][name])
    for name, m in metrics["by_feature"].items():
        row(name, m, greedy and greedy["by_feature"][name])
    console.print(table)
    at = metrics["accuracy_at_coverage"]
    ece = metrics["expected_calibration_error"]
    console.print(
        "Accuracy of the most confident reads: "
        + ", ".join(f"{float(c):.0%} kept {a:.2%}" for c, a in at.items())
        + f"; 99% accuracy up to {metrics['coverage_at_accuracy']['0.99']:.1%} coverage",
        highlight=False,
    )
    console.print(
        "Expected calibration error: " + ", ".join(f"{name} {value:.3f}" for name, value in ece.items()),
        highlight=False,
    )
    console.print(
        "95% interval: where the accuracy on all such plates lies, given these (Wilson score); "
        "differences inside it may be a few plates' luck",
        highlight=False,
    )
    if layouts_file:
        console.print(f"Layouts from {layouts_file}")
    if metrics["confusions"]:
        top = ", ".join(f"{c['truth'] or '∅'}→{c['pred'] or '∅'} ×{c['count']}" for c in metrics["confusions"][:10])
        console.print(f"Most frequent confusions (truth→read): {top}", highlight=False)
    if args.conditions:
        written["conditions"] = _print_conditions(console, condition_summary(results), out)
        sheet = conditions_sheet(results)
        if sheet is not None:
            written["conditions_sheet"] = _write_sheet(sheet, out / "conditions.png")
    if args.compare:
        pairs = {c: (results[c][1], other_results[c][1], results[c][2]) for c in results}
        written.update(_print_comparison(console, args, pairs, out))
    for name, path in written.items():
        console.print(f"Wrote {name}: {path}", highlight=False)
    return 0


def _print_comparison(console, args: argparse.Namespace, pairs: dict, out: Path) -> dict[str, Path]:
    """The two models side by side on the same plates (``pairs``: condition -> both models' reads
    and the images): ``comparison.json`` and ``comparison.png`` (the clean crops)."""
    import json

    from rich.table import Table

    from anpr.evaluate.comparison import compare_reads, differing_plates
    from anpr.evaluate.conditions import CLEAN
    from anpr.evaluate.report import reads_sheet

    names = [args.model.name, args.compare.name]
    if names[0] == names[1]:
        names = [str(args.model), str(args.compare)]
    by_condition = {condition: compare_reads(first, second) for condition, (first, second, _) in pairs.items()}
    clean = by_condition[CLEAN]
    comparison = {"first": str(args.model), "second": str(args.compare), **clean}
    if len(by_condition) > 1:
        comparison["by_condition"] = by_condition
        groups = by_condition
    else:
        groups = {"all": clean, **{f"layout: {k}": v for k, v in clean["by_layout"].items()}}
    table = Table(title=f"{names[1]} against {names[0]} on the same {clean['num_samples']} plates")
    first_column = "condition" if "by_condition" in comparison else "group"
    columns = [first_column, "plates", *names, "points gained", f"only {names[0]}", f"only {names[1]}", "p"]
    for column in columns:
        table.add_column(column, justify="left" if column == first_column else "right")
    for group, m in groups.items():
        table.add_row(
            group,
            str(m["num_samples"]),
            f"{m['first_sequence_accuracy']:.2%}",
            f"{m['second_sequence_accuracy']:.2%}",
            f"{m['points_gained']:+.1f}",
            str(m["only_first"]),
            str(m["only_second"]),
            f"{m['p_value']:.2g}",
        )
    console.print(table)
    console.print(
        "only X: plates that model reads right and the other wrong; p: the chance of a split at least "
        "that uneven if the two read equally well (exact McNemar)",
        highlight=False,
    )
    for plate in clean["plates"][:20]:
        console.print(
            f"  {plate['image']}: truth {plate['truth']}, {names[0]} {plate['first'] or '∅'}, "
            f"{names[1]} {plate['second'] or '∅'}",
            highlight=False,
        )
    written = {"comparison": out / "comparison.json"}
    written["comparison"].write_text(json.dumps(comparison, indent=2) + "\n", encoding="utf-8")
    first, second, images_dir = pairs[CLEAN]
    sheet = reads_sheet(
        {names[0]: (first, images_dir), names[1]: (second, images_dir)}, differing_plates(first, second)
    )
    if sheet is not None:
        written["comparison_sheet"] = _write_sheet(sheet, out / "comparison.png")
    return written


def _interval(bounds: list[float]) -> str:
    low, high = bounds
    return f"{low:.1%}-{high:.1%}"


def _write_sheet(sheet, path: Path) -> Path:
    """A sheet of reads (conditions.png, comparison.png), as a PNG."""
    import cv2

    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return path


def _print_conditions(console, summary: dict, out: Path) -> Path:
    """The per-condition table, and ``conditions.json`` with the same numbers."""
    import json

    from rich.table import Table

    from anpr.evaluate.conditions import CLEAN

    layouts = sorted({name for row in summary.values() for name in row["by_layout"]})
    table = Table(title="By detector condition (perturbed copies of the same crops)")
    columns = ["condition", "plates", "sequence acc.", "95% interval", "points below clean", "broken / fixed", "p"]
    for column in [*columns, *layouts]:
        table.add_column(column, justify="left" if column == "condition" else "right")
    for condition, row in summary.items():
        by_layout = [f"{row['by_layout'][name]:.2%}" if name in row["by_layout"] else "" for name in layouts]
        accuracy = [f"{row['sequence_accuracy']:.2%}", _interval(row["sequence_accuracy_interval"])]
        change = (
            ["", "", ""]
            if condition == CLEAN
            else [
                f"{row['points_below_clean']:.1f}",
                f"{row['plates_broken']} / {row['plates_fixed']}",
                f"{row['drop_p_value']:.2g}",
            ]
        )
        table.add_row(condition, str(row["num_samples"]), *accuracy, *change, *by_layout)
    console.print(table)
    console.print(
        "broken / fixed: plates read right clean and wrong under the condition, and the reverse; "
        "p: the chance of a split at least that uneven if the condition made no difference (exact McNemar)",
        highlight=False,
    )
    path = out / "conditions.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
