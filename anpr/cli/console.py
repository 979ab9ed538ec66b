"""Problems reported to the user: one plain line each on stderr, never wrapped.

Rich wraps long lines at the terminal width, which splits file paths across lines and breaks
``grep`` over logs. Tables and progress bars stay Rich; errors and warnings go through here.
"""

from __future__ import annotations

import sys


def report_error(message: str) -> None:
    """``error: <message>`` on one line of stderr, whatever the terminal width."""
    _report("error", message)


def report_warning(message: str) -> None:
    """``warning: <message>`` on one line of stderr, whatever the terminal width."""
    _report("warning", message)


def _report(kind: str, message: str) -> None:
    one_line = " ".join(str(message).split("\n"))
    print(f"{kind}: {one_line}", file=sys.stderr, flush=True)


def stdout_console(**options):
    """A Rich console for tables and summaries on stdout.

    On a terminal it fits the terminal's width; piped into a file or captured, nothing is folded
    or cropped (rows and paths stay whole and greppable), whatever ``COLUMNS`` says.
    """
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(**options)
    return Console(**{"width": 100_000, "soft_wrap": True, **options})


class CountingProgress:
    """A transient progress bar that appears only for work of at least ``threshold`` items (a
    bar that flashes for a fraction of a second is noise); use ``on_start``/``advance`` as callbacks."""

    def __init__(self, console, label: str, threshold: int = 0) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self.progress = Progress(*columns, console=console, transient=True)
        self.threshold, self.task = threshold, None

    def on_start(self, total: int) -> None:
        if total >= self.threshold:
            self.task = self.progress.add_task("items", total=total)
            self.progress.start()

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()
