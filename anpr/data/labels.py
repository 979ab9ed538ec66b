"""Reading rec-format labels files (``image_name<TAB>TEXT``) with line numbers kept for errors.

One parser serves both readers: :func:`parse_labels` is lenient and collects every problem as an
:class:`~anpr.data.checks.Issue` (what the dataset checker needs); :func:`read_labels` is
strict and raises on the first malformed line (what code that just wants the records needs).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from anpr.data.checks import Issue
from anpr.errors import UserError

# Issues of the parse that make :func:`read_labels` raise (the others are tolerated).
PARSE_ERRORS = ("non_utf8", "no_tab", "empty_name", "no_records")


class DatasetError(UserError):
    """Bad input data; the message names the file and line and says what to do."""


@dataclass(frozen=True)
class LabelRecord:
    """One labelled image: where it was declared and what it says."""

    labels_file: Path
    line_number: int
    image_name: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.labels_file}:{self.line_number}"


@dataclass
class ParsedLabels:
    """Everything a labels file holds: the well-formed records and the problems of the others."""

    labels_file: Path
    records: list[LabelRecord] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    num_lines: int = 0


def parse_labels(labels_file: str | Path) -> ParsedLabels:
    """Parse a labels file without stopping at bad lines.

    Lines are split at ``\\n``, ``\\r\\n`` or ``\\r``; blank lines are ignored; the image name and
    the text are stripped of surrounding whitespace (nothing inside the text is changed). Lines
    that are not UTF-8, have no tab or no image name give an issue and no record. A missing file
    raises :class:`DatasetError`.
    """
    labels_file = Path(labels_file)
    if not labels_file.is_file():
        raise DatasetError(f"labels file not found: {labels_file} (set data.labels_file=...)")
    data = labels_file.read_bytes()
    parsed = ParsedLabels(labels_file)
    name = str(labels_file)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        parsed.issues.append(Issue(name, 1, "bom", "the file starts with a UTF-8 byte-order mark"))
    crlf_lines = []
    lines = data.splitlines(keepends=True)
    parsed.num_lines = len(lines)
    for number, raw in enumerate(lines, start=1):
        if raw.endswith(b"\r\n"):
            crlf_lines.append(number)
        body = raw.rstrip(b"\r\n")
        try:
            line = body.decode("utf-8")
        except UnicodeDecodeError as err:
            shown = body.decode("utf-8", errors="backslashreplace")
            parsed.issues.append(
                Issue(
                    name,
                    number,
                    "non_utf8",
                    f"byte 0x{body[err.start]:02X} at column {err.start + 1} is not UTF-8 in {shown!r}; "
                    "save the labels file as UTF-8",
                )
            )
            continue
        if not line.strip():
            continue
        if "\t" not in line:
            parsed.issues.append(
                Issue(name, number, "no_tab", f"expected 'image_name<TAB>TEXT', got {line!r} (no tab)")
            )
            continue
        image_name, text = line.split("\t", 1)
        if not image_name.strip():
            parsed.issues.append(Issue(name, number, "empty_name", f"empty image name in {line!r}"))
            continue
        parsed.records.append(LabelRecord(labels_file, number, image_name.strip(), text.strip()))
    if crlf_lines:
        parsed.issues.append(
            Issue(
                name,
                crlf_lines[0],
                "crlf",
                f"{len(crlf_lines)} line(s) end in CRLF (Windows line endings), the first at line {crlf_lines[0]}",
            )
        )
    if not parsed.records:
        parsed.issues.append(Issue(name, 0, "no_records", "no labelled images in this file"))
    parsed.issues.sort(key=lambda issue: issue.line)
    return parsed


def read_labels(labels_file: str | Path) -> list[LabelRecord]:
    """Parse a labels file; any malformed line is a :class:`DatasetError` naming it.

    Blank lines are ignored; a UTF-8 BOM and Windows line endings are tolerated.
    """
    parsed = parse_labels(labels_file)
    for issue in parsed.issues:
        if issue.kind in PARSE_ERRORS:
            raise DatasetError(f"{issue.where}: {issue.message}")
    return parsed.records
