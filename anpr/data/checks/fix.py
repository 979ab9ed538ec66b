"""Writing a normalised copy of a labels file (``--fix-labels OUT``): the fixable lines with their
text normalised, the others left out with the reason. The original file is never touched."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from anpr.charset import Charset
from anpr.data.checks.issues import Issue
from anpr.data.checks.labels import normalise_label
from anpr.data.checks.report import CheckReport
from anpr.data.labels import DatasetError


@dataclass
class FixResult:
    written: int
    changed: list[tuple[int, str, str]]  # (line, old text, new text)
    left_out: list[tuple[int, str]]  # (line, why)


def write_fixed_labels(report: CheckReport, charset: Charset | str, out: str | Path) -> FixResult:
    """Write the labels with normalisation applied to ``out``; lines that normalisation cannot
    fix (missing or bad images, unfixable text, conflicts, too long) and repeated lines are left
    out and returned with the reason. The original file is never touched."""
    out = Path(out)
    if out.exists() and out.resolve() == report.labels_file.resolve():
        raise DatasetError(f"--fix-labels must name a new file, not the labels file itself: {out}")
    charset = charset if isinstance(charset, Charset) else Charset(charset)
    by_line: dict[int, list[Issue]] = defaultdict(list)
    for issue in report.issues:
        by_line[issue.line].append(issue)
    result = FixResult(0, [], [])
    recorded = {r.line_number for r in report.records}
    for line, issues in sorted(by_line.items()):
        if line and line not in recorded:  # no record: a malformed line
            result.left_out.append((line, "; ".join(f"[{i.kind}] {i.message}" for i in issues if i.fatal)))
    written: dict[tuple[str, str], int] = {}
    lines = []
    for record in report.records:
        issues = [i for i in by_line.get(record.line_number, []) if i.fatal]
        blocking = [i for i in issues if i.kind != "bad_chars"]
        text = record.text
        if any(i.kind == "bad_chars" for i in issues):
            text = normalise_label(record.text, charset) or ""
            if not text:
                blocking.append(next(i for i in issues if i.kind == "bad_chars"))
        if blocking:
            result.left_out.append((record.line_number, "; ".join(f"[{i.kind}] {i.message}" for i in blocking)))
            continue
        key = (record.image_name, text)
        if key in written:
            result.left_out.append(
                (record.line_number, f"[duplicate_line] same as line {written[key]} once normalised")
            )
            continue
        written[key] = record.line_number
        if text != record.text:
            result.changed.append((record.line_number, record.text, text))
        lines.append(f"{record.image_name}\t{text}\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(lines)
    result.written = len(lines)
    result.left_out.sort()
    return result
