"""The result of checking one labels file (:class:`CheckReport`) and what the training guard says
and writes about it, so that the checker and training name the same problems the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anpr.data.checks.issues import Issue, count_by_kind, format_issue_list
from anpr.data.labels import LabelRecord


@dataclass
class CheckReport:
    """The result of checking one labels file and its images."""

    labels_file: Path
    images_dir: Path
    records: list[LabelRecord]
    issues: list[Issue]
    num_lines: int = 0
    num_images: int = 0  # distinct image names
    scanned: int = 0  # images checked now
    cached: int = 0  # images whose result came from the cache (unchanged since the last check)
    scan_seconds: float = 0.0
    time_steps: int | None = None
    _bad_lines: set[int] | None = field(default=None, repr=False)

    @property
    def fatal(self) -> list[Issue]:
        return [i for i in self.issues if i.fatal]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.fatal]

    @property
    def ok(self) -> bool:
        """True when nothing here would stop training."""
        return not self.fatal

    @property
    def bad_lines(self) -> set[int]:
        """Line numbers with a problem that stops training (0: the file as a whole)."""
        if self._bad_lines is None:
            self._bad_lines = {i.line for i in self.fatal}
        return self._bad_lines

    def good_records(self) -> list[LabelRecord]:
        return [r for r in self.records if r.line_number not in self.bad_lines]

    def counts(self) -> dict[str, int]:
        return count_by_kind(self.issues)

    @property
    def images_per_second(self) -> float:
        return self.scanned / self.scan_seconds if self.scan_seconds > 0 else 0.0


def training_error_message(reports: Sequence[CheckReport], limit: int = 20, listed_in: str | Path | None = None) -> str:
    """The message training stops with: each problem's file:line (capped), the count, what to do."""
    fatal = [i for r in reports for i in r.fatal]
    bad = sum(len(r.bad_lines - {0}) for r in reports)
    good = sum(len(r.good_records()) for r in reports)
    counts = ", ".join(f"{n} {kind}" for kind, n in count_by_kind(fatal).items())
    commands = "\n".join(
        f"  anpr check --images-dir {r.images_dir} --labels-file {r.labels_file}" for r in reports if r.fatal
    )
    listed = f"The full list is in {listed_in}.\n" if listed_in else ""
    return (
        f"the dataset has {len(fatal)} problem(s) on {bad} line(s) that stop training ({counts}):\n"
        f"{format_issue_list(fatal, limit)}\n{listed}"
        f"For the full report (and --fix-labels OUT to write a normalised labels file) run\n{commands}\n"
        f"or set data.on_bad_sample=skip to train on the {good} good sample(s) only "
        f"(the skipped ones are then listed in the run folder)."
    )


def write_bad_samples(reports: Sequence[CheckReport], path: str | Path) -> Path:
    """``where<TAB>image<TAB>kind<TAB>reason`` for every problem that stops training."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["where\timage\tkind\treason"]
    for report in reports:
        for issue in report.fatal:
            reason = issue.message.replace("\t", " ").replace("\n", " ")
            rows.append(f"{issue.where}\t{issue.image}\t{issue.kind}\t{reason}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
