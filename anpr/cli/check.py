"""Check a rec-format plate dataset before training it.

    anpr check --images-dir DIR --labels-file FILE [--model crnn_small]
        [--fix-labels OUT] [--show N] ...
    python scripts/check_data.py --images-dir DIR --labels-file FILE ...   # the same

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

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from anpr.config.compose import CONF_DIR

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


def training_contract(model: str | None, charset: str | None, time_steps: int | None):
    """The plate contract training would use with ``model`` (None: the default model), the
    ``charset`` and ``time_steps`` given in place of the config's; the composed config and the
    model's name come with it."""
    from dataclasses import replace

    from anpr.config.compose import compose_train
    from anpr.config.contract import contract_from_config

    overrides = [f"model={model}"] if model else []
    if charset:
        overrides.append(f"charset={charset}")
    cfg = compose_train(overrides, return_hydra_config=True)
    contract = contract_from_config(cfg)
    if time_steps:
        contract = replace(contract, time_steps=time_steps)
    return contract, cfg, cfg.hydra.runtime.choices.get("model", model)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from anpr.cli.console import report_error, stdout_console

    console = stdout_console(highlight=False)

    from anpr.data import checks
    from anpr.data.checks import KINDS, ImageLimits, default_workers
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

    progress = Progress(
        TextColumn("Checking images"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = None

    def on_start(total: int) -> None:
        nonlocal task
        if total >= PROGRESS_FROM:
            task = progress.add_task("images", total=total)
            progress.start()

    def advance(n: int) -> None:
        if task is not None:
            progress.advance(task, n)

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
            progress=advance,
            on_start=on_start,
        )
    except DatasetError as err:
        report_error(str(err))
        return 2
    finally:
        if task is not None:
            progress.stop()

    print_issues(console, report, args.max_list)
    print_summary(console, report, KINDS)
    mode = "header-only" if args.quick else "decoded"
    console.print(
        f"Images: {report.num_images} named, {report.scanned} checked ({mode}) in {report.scan_seconds:.2f} s"
        + (f" = {report.images_per_second:,.0f} images/s with {workers} thread(s)" if report.scanned else "")
        + (f"; {report.cached} unchanged since the last check (cache)" if report.cached else "")
    )
    bad = len(report.bad_lines)
    if report.ok:
        console.print(
            f"[green]OK:[/] nothing here stops training ({len(report.records)} samples"
            + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
            + ")."
        )
    else:
        console.print(
            f"[red]{bad} of {report.num_lines} line(s) would stop training.[/] Fix them, write a normalised labels "
            "file with --fix-labels OUT, or train on the good samples with data.on_bad_sample=skip."
        )

    if args.fix_labels:
        fix_labels(console, report, charset, args.fix_labels, args.max_list)
    if args.show:
        show(console, report, contract, args)
    return 0 if report.ok else 1


def print_issues(console: Console, report, max_list: int) -> None:
    from anpr.data.checks import KINDS

    by_kind: dict[str, list] = {}
    for issue in report.issues:
        by_kind.setdefault(issue.kind, []).append(issue)
    for fatal in (True, False):
        kinds = [k for k in KINDS if k in by_kind and KINDS[k].fatal == fatal]
        if not kinds:
            continue
        console.print()
        console.print("[bold red]Problems that stop training[/]" if fatal else "[bold yellow]Warnings (handled)[/]")
        for kind in kinds:
            issues = by_kind[kind]
            colour = "red" if fatal else "yellow"
            console.print(f"[{colour}]{kind}[/]: {KINDS[kind].title} ({len(issues)})")
            for issue in issues[:max_list]:
                console.print(f"  {escape(issue.where)}: {escape(issue.message)}", soft_wrap=True)
            if len(issues) > max_list:
                console.print(f"  ... and {len(issues) - max_list} more")
    console.print()


def print_summary(console: Console, report, kinds) -> None:
    table = Table(title=f"Summary: {escape(str(report.labels_file))}", title_justify="left")
    table.add_column("problem", no_wrap=True)
    table.add_column("lines", justify="right")
    table.add_column("stops training")
    table.add_column("what to do")
    for kind, count in report.counts().items():
        info = kinds[kind]
        table.add_row(kind, str(count), "[red]yes[/]" if info.fatal else "no", info.hint)
    table.add_section()
    table.add_row("samples", str(len(report.records)), "", "lines with an image name and a label")
    table.add_row("trainable", str(len(report.good_records())), "", "samples without a problem that stops training")
    console.print(table)


def fix_labels(console: Console, report, charset, out: str, max_list: int) -> None:
    from anpr.data.checks import write_fixed_labels

    result = write_fixed_labels(report, charset, out)
    console.print()
    console.print(
        f"[bold]--fix-labels:[/] wrote {result.written} line(s) to {escape(out)} "
        f"({len(result.changed)} normalised, {len(result.left_out)} left out)"
    )
    for line, old, new in result.changed[:max_list]:
        console.print(f"  line {line}: {escape(repr(old))} -> {escape(new)}")
    if len(result.changed) > max_list:
        console.print(f"  ... and {len(result.changed) - max_list} more normalised")
    if result.left_out:
        console.print("Left out (fix by hand if they matter):")
        for line, why in result.left_out[:max_list]:
            console.print(f"  line {line}: {escape(why)}", soft_wrap=True)
        if len(result.left_out) > max_list:
            console.print(f"  ... and {len(result.left_out) - max_list} more left out")


def show(console: Console, report, contract, args) -> None:
    from anpr.data.checks import contact_sheet, load_augmenter, prepare_samples, write_png

    records = report.good_records()[: args.show]
    if not records:
        console.print("[yellow]--show: no good samples to show[/]")
        return
    augmentation = Path(args.augmentation)
    if not augmentation.is_file():
        augmentation = CONF_DIR / "augmentation" / f"{args.augmentation}.yaml"
    from anpr.data.images import Preprocessor

    preprocessor, time_steps = Preprocessor(contract), contract.time_steps
    samples = prepare_samples(records, args.images_dir, contract.characters, preprocessor, load_augmenter(augmentation))
    table = Table(title=f"First {len(samples)} samples as training reads them", title_justify="left")
    for column in ("line", "image", "label", "encoded length", "CTC steps needed / model"):
        table.add_column(column)
    for sample in samples:
        r = sample.record
        table.add_row(
            str(r.line_number),
            escape(r.image_name),
            escape(r.text),
            str(sample.encoded_length),
            f"{sample.ctc_steps} / {time_steps}",
        )
    console.print()
    console.print(table)
    path = write_png(contact_sheet(samples, time_steps=time_steps), args.sheet)
    console.print(
        f"Contact sheet ({preprocessor.image_width}x{preprocessor.image_height}, "
        f"augmentation {augmentation.stem}): {escape(str(path))}"
    )


if __name__ == "__main__":
    sys.exit(main())
