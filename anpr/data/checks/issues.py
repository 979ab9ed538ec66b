"""Problems found in a rec dataset: what kinds exist, which of them stop training, how to list them.

Shared by the labels parser, the dataset checker (``anpr check``) and the training
guard in :class:`~anpr.data.datamodule.PlateDataModule`, so all three speak the same language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple


class Kind(NamedTuple):
    fatal: bool  # True: training stops on it (or skips the line with data.on_bad_sample=skip)
    title: str
    hint: str


# Order matters: reports list kinds in this order.
KINDS: dict[str, Kind] = {
    # the labels file itself
    "no_records": Kind(True, "no labelled images", "the labels file has no 'image_name<TAB>TEXT' lines"),
    "non_utf8": Kind(True, "bytes that are not UTF-8", "save the labels file as UTF-8"),
    "no_tab": Kind(True, "line without a tab", "separate image name and text with one tab"),
    "empty_name": Kind(True, "empty image name", "give the image file name before the tab"),
    # the labels
    "empty_label": Kind(True, "empty label", "type the plate text after the tab, or remove the line"),
    "bad_chars": Kind(True, "characters outside the charset", "--fix-labels OUT writes the normalised text"),
    "too_long": Kind(True, "too long for the model's CTC time steps", "use a model with more time steps"),
    "conflicting_labels": Kind(True, "same image with different labels", "keep the right label only"),
    # the images
    "missing_image": Kind(True, "image not found", "check --images-dir / data.images_dir"),
    "empty_image": Kind(True, "zero-byte image file", "re-export the crop or remove the line"),
    "truncated_image": Kind(True, "truncated image (file cut short)", "re-export the crop or remove the line"),
    "unreadable_image": Kind(True, "unreadable image", "re-export the crop or remove the line"),
    "too_small": Kind(True, "image too small to read", "remove the line (or lower the size limit)"),
    # warnings: handled, but worth knowing
    "duplicate_line": Kind(False, "duplicated line", "the sample counts twice; remove the copy"),
    "bom": Kind(False, "UTF-8 byte-order mark", "tolerated"),
    "crlf": Kind(False, "Windows (CRLF) line endings", "tolerated"),
    "gray_image": Kind(False, "grayscale image", "converted to RGB"),
    "rgba_image": Kind(False, "image with alpha channel", "alpha dropped"),
    "16bit_image": Kind(False, "16-bit image", "scaled to 8 bits"),
}

_ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Issue:
    """One problem at one line of a labels file (``line`` 0: the file as a whole)."""

    file: str
    line: int
    kind: str
    message: str
    image: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown issue kind {self.kind!r}")

    @property
    def fatal(self) -> bool:
        return KINDS[self.kind].fatal

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def __str__(self) -> str:
        return f"{self.where}: [{self.kind}] {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Issue:
        return cls(**data)


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.file, i.line, _ORDER[i.kind]))


def count_by_kind(issues: Iterable[Issue]) -> dict[str, int]:
    counts = Counter(i.kind for i in issues)
    return {kind: counts[kind] for kind in KINDS if counts[kind]}


def format_issue_list(issues: Iterable[Issue], limit: int = 20) -> str:
    """One line per issue, at most ``limit`` of them, then how many more there are."""
    issues = list(issues)
    lines = [f"  {issue}" for issue in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"  ... and {len(issues) - limit} more")
    return "\n".join(lines)
