"""What `anpr check` prints: the problems by kind, a summary table, the verdict, the fixed labels
and the samples as training reads them (``--show``)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anpr.config.compose import CONF_DIR
from anpr.data.images import Preprocessor


def print_issues(console: Console, report, max_list: int) -> None:
    """Every problem, by kind, fatal ones first, at most ``max_list`` of each."""
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
    """One row per kind of problem: how many lines, whether it stops training, what to do."""
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
    """``--fix-labels``: write the normalised labels file and list what changed and what was left out."""
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


def augmentation_file(name: str) -> Path:
    """A YAML file as given, or ``conf/augmentation/<name>.yaml``."""
    path = Path(name)
    return path if path.is_file() else CONF_DIR / "augmentation" / f"{name}.yaml"


def show_samples(
    console: Console, report, contract, images_dir: str, count: int, augmentation: str, sheet: str
) -> None:
    """``--show``: the first ``count`` good samples as training reads them, and their contact sheet."""
    from anpr.data.checks import contact_sheet, load_augmenter, prepare_samples, write_png

    records = report.good_records()[:count]
    if not records:
        console.print("[yellow]--show: no good samples to show[/]")
        return
    augmentation = augmentation_file(augmentation)
    preprocessor, time_steps = Preprocessor(contract), contract.time_steps
    samples = prepare_samples(records, images_dir, contract.characters, preprocessor, load_augmenter(augmentation))
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
    path = write_png(contact_sheet(samples, time_steps=time_steps), sheet)
    console.print(
        f"Contact sheet ({preprocessor.image_width}x{preprocessor.image_height}, "
        f"augmentation {augmentation.stem}): {escape(str(path))}"
    )


def print_verdict(console: Console, report, quick: bool, workers: int) -> None:
    """How many images were checked and how fast, and whether anything stops training."""
    mode = "header-only" if quick else "decoded"
    console.print(
        f"Images: {report.num_images} named, {report.scanned} checked ({mode}) in {report.scan_seconds:.2f} s"
        + (f" = {report.images_per_second:,.0f} images/s with {workers} thread(s)" if report.scanned else "")
        + (f"; {report.cached} unchanged since the last check (cache)" if report.cached else "")
    )
    if report.ok:
        console.print(
            f"[green]OK:[/] nothing here stops training ({len(report.records)} samples"
            + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
            + ")."
        )
    else:
        console.print(
            f"[red]{len(report.bad_lines)} of {report.num_lines} line(s) would stop training.[/] Fix them, write a "
            "normalised labels file with --fix-labels OUT, or train on the good samples with data.on_bad_sample=skip."
        )
