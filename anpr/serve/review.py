"""Reviewed crops saved as a rec dataset that ``anpr check`` and ``anpr train`` take as it is.

``<folder>/images/<name>`` holds the crop's bytes as uploaded, ``<folder>/labels.txt`` its text
(``name<TAB>TEXT``), and ``<folder>/reviews.jsonl`` what the model had read, with its confidence,
the decision and the time. Names are the hash of the image's bytes, chosen here: nothing a client
sends names a path, and a crop reviewed twice keeps one line (the latest), never two conflicting
labels. Every save rewrites the files through a temporary file and ``os.replace`` under a lock,
so a server stopped at any moment leaves the previous or the new dataset, never half of one.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from anpr.charset import Charset
from anpr.data.checks.labels import normalise_label

LABELS = "labels.txt"
SIDE_FILE = "reviews.jsonl"
IMAGES = "images"
DECISIONS = ("accepted", "alternative", "corrected")


class TextProblem(ValueError):
    """A reviewed text that cannot be saved as a label (characters the model cannot read)."""


def settle_text(text: str, charset: Charset, grammar: Any) -> tuple[str, bool | None]:
    """``text`` as a label (``kl-07 ab 1234`` -> ``KL07AB1234``) and whether the plate grammar
    accepts it (None without a grammar); raises :class:`TextProblem` when no label fits."""
    label = normalise_label(text or "", charset)
    if not label:
        shown = text.strip() or "(empty)"
        raise TextProblem(f"{shown!r} cannot be a label: plates are written with {charset.characters}")
    return label, (None if grammar is None else bool(grammar.is_valid(label)))


class ReviewStore:
    """The rec dataset under ``folder``; :meth:`save` is safe from several threads and processes."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        (self.folder / IMAGES).mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    @property
    def labels_file(self) -> Path:
        return self.folder / LABELS

    @property
    def images_dir(self) -> Path:
        return self.folder / IMAGES

    def save(self, data: bytes, extension: str, text: str, decision: str, read: dict[str, Any]) -> dict[str, Any]:
        """Save one reviewed crop with its final ``text``; ``read`` is what the model read."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
        name = f"review_{hashlib.sha256(data).hexdigest()[:20]}.{extension}"
        record = {
            "image": name,
            "text": text,
            "decision": decision,
            "read_text": read.get("text"),
            "read_confidence": read.get("confidence"),
            "read_valid_format": read.get("valid_format"),
            "alternatives": read.get("alternatives", []),
            "reviewed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        with self._locked():
            image = self.images_dir / name
            if not image.is_file():
                write_atomically(image, data)
            reviews = {r["image"]: r for r in self.records()}
            reviews[name] = record
            labels = self._label_lines()
            labels[name] = f"{name}\t{text}"
            write_atomically(self.folder / SIDE_FILE, "".join(json.dumps(r) + "\n" for r in reviews.values()).encode())
            write_atomically(self.labels_file, "".join(line + "\n" for line in labels.values()).encode())
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every saved review, oldest first."""
        path = self.folder / SIDE_FILE
        if not path.is_file():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def _label_lines(self) -> dict[str, str]:
        """labels.txt as image name -> line (lines written by hand are kept as they are)."""
        if not self.labels_file.is_file():
            return {}
        lines = self.labels_file.read_text(encoding="utf-8").splitlines()
        return {line.split("\t", 1)[0] or f"#{i}": line for i, line in enumerate(lines) if line.strip()}

    @contextlib.contextmanager
    def _locked(self):
        """This process's threads, and other server processes (``--workers``), one at a time."""
        with self._lock, open(self.folder / ".review.lock", "a") as handle:
            try:
                import fcntl
            except ImportError:  # Windows: one process only
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(path: Path, data: bytes) -> None:
    """``path`` holds the old bytes or the new ones, whatever happens during the write."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            os.fchmod(out.fileno(), 0o644)  # mkstemp makes 0600; a dataset is for others to read too
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
