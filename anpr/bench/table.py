"""Markdown tables, written one way for every benchmark report.

Every report prints GitHub-flavoured Markdown that is pasted into the README and docs and
parsed back by the tests; one writer keeps the pipes, padding and alignment row alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

ALIGN_ROW = {"l": "---", "r": "---:"}


def _line(cells: Iterable[object]) -> str:
    """One table line: ``| a | b |``."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def markdown_table(header: Sequence[str], align: str, rows: Iterable[Sequence[object]] = ()) -> list[str]:
    """The header, the alignment row and one line per row.

    ``align`` has a letter per column, ``l`` (text) or ``r`` (numbers), so the columns a table
    right-aligns can be read off in one place.
    """
    if len(align) != len(header) or set(align) - set(ALIGN_ROW):
        raise ValueError(f"align {align!r} needs one 'l' or 'r' per column of {list(header)}")
    lines = [_line(header), "|" + "|".join(ALIGN_ROW[a] for a in align) + "|"]
    for cells in rows:
        if len(cells) != len(header):
            raise ValueError(f"{len(cells)} cells for {len(header)} columns: {list(cells)}")
        lines.append(_line(cells))
    return lines
