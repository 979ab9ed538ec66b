"""Evaluate a checkpoint (.ckpt) or ONNX model (.onnx) on a labelled plate set.

    anpr evaluate model.onnx --images-dir data/val/images --labels-file data/val/labels.txt

Writes metrics.json (sequence accuracy with its 95% interval, character accuracy, by plate
format, by layout, the greedy reading's accuracy next to the decoder's, calibration error,
accuracy at 80/90/95/100% coverage and the coverage at 99% accuracy, character confusions),
predictions.tsv, coverage.png and worst_mistakes.png to --out, and prints a summary.

    anpr evaluate model.onnx --images-dir crops/images --labels-file crops/labels.txt --conditions all

also reads perturbed copies of the set, one per detector condition (anpr/evaluate/perturb.py: loose and cut
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

    from anpr.cli.console import report_error, stdout_console
    from anpr.data.labels import DatasetError
    from anpr.evaluate import summary
    from anpr.evaluate.run import evaluate_model
    from anpr.grammar import GrammarError
    from anpr.inference import CheckpointError

    console = stdout_console()
    try:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("Evaluating", total=None)
            run = evaluate_model(
                args.model,
                args.images_dir,
                args.labels_file,
                args.out,
                layouts_file=args.layouts_file,
                conditions=args.conditions or (),
                perturb_seed=args.perturb_seed,
                batch_size=args.batch_size,
                worst=args.worst,
                compare=args.compare,
                threads=args.threads,
                decoding=decoding_options(args),
                on_progress=lambda n: progress.advance(task, n),
            )
    except (CheckpointError, DatasetError, GrammarError, OSError) as e:
        report_error(str(e))
        return 2
    console.print(summary.accuracy_table(run))
    for line in summary.accuracy_notes(run):
        console.print(line, highlight=False)
    if run.conditions:
        console.print(summary.conditions_table(run.conditions))
        console.print(summary.CONDITIONS_NOTE, highlight=False)
    if run.comparison:
        console.print(summary.comparison_table(run))
        console.print(summary.COMPARISON_NOTE, highlight=False)
        for line in summary.differing_lines(run):
            console.print(line, highlight=False)
    for name, path in run.written.items():
        console.print(f"Wrote {name}: {path}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
