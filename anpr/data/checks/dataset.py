"""Checking a whole dataset: the labels file, its labels and the images it names.

:func:`check_dataset` is the one scan behind both ``anpr check`` and the training guard
of :class:`~anpr.data.datamodule.PlateDataModule`, so the two always find the same problems.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from anpr.charset import Charset
from anpr.data.checks.images import ImageLimits
from anpr.data.checks.issues import Issue, sort_issues
from anpr.data.checks.labels import check_label_records
from anpr.data.checks.report import CheckReport
from anpr.data.checks.scan import image_findings
from anpr.data.labels import ParsedLabels, parse_labels


def check_dataset(
    images_dir: str | Path,
    labels_file: str | Path,
    charset: Charset | str,
    time_steps: int | None = None,
    limits: ImageLimits = ImageLimits(),
    decode: bool = True,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    parsed: ParsedLabels | None = None,
) -> CheckReport:
    """Check a labels file and the images it names; returns every issue, sorted by line.

    ``time_steps``: the model's CTC time steps (None: label length is not checked).
    ``cache_dir``: where image results are cached (None: no cache).
    ``progress(n)`` / ``on_start(total)``: progress reporting for the image scan.
    """
    images_dir, labels_file = Path(images_dir), Path(labels_file)
    charset = charset if isinstance(charset, Charset) else Charset(charset)
    parsed = parsed or parse_labels(labels_file)
    issues = list(parsed.issues) + check_label_records(parsed.records, charset, time_steps)
    names = list(dict.fromkeys(r.image_name for r in parsed.records))
    findings, scanned, cached, seconds = image_findings(
        images_dir, names, limits, decode, workers, cache_dir, progress, on_start
    )
    for record in parsed.records:
        for kind, message in findings[record.image_name]:
            issues.append(Issue(str(labels_file), record.line_number, kind, message, record.image_name))
    return CheckReport(
        labels_file=labels_file,
        images_dir=images_dir,
        records=parsed.records,
        issues=sort_issues(issues),
        num_lines=parsed.num_lines,
        num_images=len(names),
        scanned=scanned,
        cached=cached,
        scan_seconds=seconds,
        time_steps=time_steps,
    )
