"""Read number plates from image files with a checkpoint (.ckpt) or an exported model (.onnx).

    anpr predict model.onnx plates/ more/*.jpg one.png
    anpr predict model.ckpt plates/ --json > reads.jsonl
    anpr predict model.onnx plates/ --min-confidence 0.9   # doubtful reads: 'review'

Folders are searched recursively for images. A file that cannot be read is reported (an error
row, or {"path", "error"} with --json) and the run goes on; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import sys

from anpr.cli.decoder_options import add_decoding_arguments, decoding_options


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint (.ckpt) or ONNX file (.onnx)")
    p.add_argument("inputs", nargs="+", help="image files, folders (searched recursively) or glob patterns")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout instead of a table")
    p.add_argument("--batch-size", type=int, default=32, help="images per model call (default 32)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the model (default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it goes to stderr)")
    add_decoding_arguments(p)
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from anpr.cli.console import report_error, stdout_console
    from anpr.data.images import quiet_opencv
    from anpr.grammar import GrammarError
    from anpr.inference import CheckpointError, PlateReader
    from anpr.inference.predict import predict_files
    from anpr.inference.sources import expand_inputs

    err = Console(stderr=True)
    try:
        reader = PlateReader.from_path(args.model, threads=args.threads, **decoding_options(args))
    except (CheckpointError, GrammarError) as e:
        report_error(str(e))
        return 2
    inputs = expand_inputs(args.inputs)
    show_progress = not args.no_progress and len(inputs) > args.batch_size
    progress = Progress(
        TextColumn("Reading plates"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show_progress,
        transient=True,
    )
    table = Table(title=f"Plates read by {args.model}")
    table.add_column("path", overflow="fold", ratio=1)
    table.add_column("text", no_wrap=True, min_width=12)
    table.add_column("confidence", justify="right", no_wrap=True)
    table.add_column("format ok", no_wrap=True)
    if args.min_confidence is not None:
        table.add_column("status", no_wrap=True)
    errors = []
    failed = 0
    with progress, quiet_opencv():
        task = progress.add_task("read", total=len(inputs))
        for record in predict_files(
            reader, inputs, args.batch_size, lambda n: progress.advance(task, n), args.min_confidence
        ):
            failed += "error" in record
            if args.json:
                print(json.dumps(record), flush=False)
            elif "error" in record:
                errors.append(f"{record['path']}: {record['error'].replace(': ' + record['path'], '')}")
                table.add_row(record["path"], "[red]error[/red]")
            else:
                valid = {True: "yes", False: "[yellow]no[/yellow]", None: "-"}[record["valid_format"]]
                status = (
                    ["[yellow]review[/yellow]" if record["review"] else "ok"] if args.min_confidence is not None else []
                )
                table.add_row(
                    record["path"],
                    record["text"] or "[dim](nothing)[/dim]",
                    f"{record['confidence']:.3f}",
                    valid,
                    *status,
                )
    if not args.json:
        stdout_console().print(table)
        for line in errors:
            report_error(line)
    if failed:
        report_error(f"{failed} of {len(inputs)} inputs failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
