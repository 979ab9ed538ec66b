"""Check a rec-format plate dataset before training it.

    anpr check --images-dir DIR --labels-file FILE [--model crnn_small]
        [--fix-labels OUT] [--show N] ...

Lists, with file and line number, everything that would stop training (missing, empty,
truncated, unreadable or tiny images; labels with characters outside the charset, empty,
conflicting or too long for the model's CTC time steps; malformed lines) and what is only worth
knowing (gray/RGBA/16-bit images, duplicated lines, a BOM, CRLF line endings), then a summary.
Exit code 1 when anything would stop training, 2 when the labels file cannot be read, else 0.
Training runs the same checks (data.on_bad_sample=error|skip).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.markup import escape

PROGRESS_FROM = 500  # images to decode before a progress bar is worth showing


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    parser = argparse.ArgumentParser(
        description="Check a rec-format plate dataset (labels lines 'image_name<TAB>TEXT').",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--images-dir", required=True, help="folder the image names are relative to (data.images_dir)")
    parser.add_argument("--labels-file", required=True, help="the labels file (data.labels_file)")
    parser.add_argument(
        "--model",
        default=None,
        help="model config (conf/model/<name>.yaml) whose CTC time steps labels must fit; "
        "default: the training default",
    )
    parser.add_argument("--time-steps", type=int, default=None, help="CTC time steps (instead of building --model)")
    parser.add_argument("--charset", default=None, help="characters the model reads (default: the training config's)")
    parser.add_argument("--min-height", type=int, default=8, help="images lower than this are too small to read")
    parser.add_argument("--min-width", type=int, default=16, help="images narrower than this are too small to read")
    parser.add_argument(
        "--quick", action="store_true", help="read image headers only (no decoding): faster, misses corrupt pixel data"
    )
    parser.add_argument("--workers", type=int, default=None, help="image decoding threads (default: CPUs, at most 8)")
    parser.add_argument(
        "--cache-dir", default=None, help="image check cache (default: the training default, <paths.data_dir>/checks)"
    )
    parser.add_argument("--no-cache", action="store_true", help="decode every image, do not read or write the cache")
    parser.add_argument("--max-list", type=int, default=20, help="problems listed per kind (the summary counts all)")
    parser.add_argument(
        "--fix-labels",
        metavar="OUT",
        default=None,
        help="write a normalised labels file to OUT (the original is not touched); "
        "lines normalisation cannot fix are left out and listed",
    )
    parser.add_argument(
        "--show",
        type=int,
        metavar="N",
        default=0,
        help="print N samples with their encoded lengths and write a contact sheet of them "
        "as the model sees them (resized, augmented)",
    )
    parser.add_argument("--sheet", default="data_check_samples.png", help="where --show writes its PNG")
    parser.add_argument(
        "--augmentation", default="seed", help="augmentation for --show: conf/augmentation/<name>.yaml or a YAML file"
    )
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from anpr.cli.console import CountingProgress, report_error, stdout_console

    console = stdout_console(highlight=False)

    from anpr.config.contract import training_contract
    from anpr.data import checks
    from anpr.data.checks import KINDS, ImageLimits, default_workers, summary
    from anpr.data.labels import DatasetError

    contract, cfg, model_name = training_contract(args.model, args.charset, args.time_steps)
    charset, time_steps = contract.characters, contract.time_steps
    steps_from = "--time-steps" if args.time_steps else f"model {model_name}"
    cache_dir = None if args.no_cache else (args.cache_dir or str(Path(cfg.paths.data_dir) / "checks"))
    workers = args.workers or default_workers()

    console.print(f"Checking [bold]{escape(args.labels_file)}[/] with images in [bold]{escape(args.images_dir)}[/]")
    console.print(
        f"Charset {charset.characters!r}; {time_steps} CTC time steps ({steps_from}); "
        f"images at least {args.min_width}x{args.min_height} px"
    )

    progress = CountingProgress(console, "Checking images", PROGRESS_FROM)
    try:
        report = checks.check_dataset(
            args.images_dir,
            args.labels_file,
            charset,
            time_steps,
            ImageLimits(args.min_height, args.min_width),
            decode=not args.quick,
            workers=workers,
            cache_dir=cache_dir,
            progress=progress.advance,
            on_start=progress.on_start,
        )
    except DatasetError as err:
        report_error(str(err))
        return 2
    finally:
        progress.stop()

    summary.print_issues(console, report, args.max_list)
    summary.print_summary(console, report, KINDS)
    summary.print_verdict(console, report, args.quick, workers)
    if args.fix_labels:
        summary.fix_labels(console, report, charset, args.fix_labels, args.max_list)
    if args.show:
        summary.show_samples(console, report, contract, args.images_dir, args.show, args.augmentation, args.sheet)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
