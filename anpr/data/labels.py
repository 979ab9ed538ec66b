"""Reading rec-format labels files (``image_name<TAB>TEXT``) with line numbers kept for errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class DatasetError(ValueError):
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


def read_labels(labels_file: str | Path) -> list[LabelRecord]:
    """Parse a labels file; any malformed line is a :class:`DatasetError` naming it.

    Blank lines are ignored; a UTF-8 BOM and Windows line endings are tolerated.
    """
    labels_file = Path(labels_file)
    if not labels_file.is_file():
        raise DatasetError(f"labels file not found: {labels_file} (set data.labels_file=...)")
    try:
        content = labels_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        line = labels_file.read_bytes()[: err.start].count(b"\n") + 1
        raise DatasetError(
            f"{labels_file}:{line}: not valid UTF-8 ({err.reason}); save the labels file as UTF-8"
        ) from err
    records = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DatasetError(
                f"{labels_file}:{number}: expected 'image_name<TAB>TEXT', got {line!r} (no tab)"
            )
        name, text = line.split("\t", 1)
        if not name.strip():
            raise DatasetError(f"{labels_file}:{number}: empty image name in {line!r}")
        records.append(LabelRecord(labels_file, number, name.strip(), text.strip()))
    if not records:
        raise DatasetError(f"{labels_file}: no labelled images in this file")
    return records
