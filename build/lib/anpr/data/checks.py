"""Checking a rec dataset before training: every bad line with its file and line number.

:func:`check_dataset` is the one scan behind both ``scripts/check_data.py`` and the training guard
of :class:`~anpr.data.datamodule.PlateDataModule`. It never changes data: the normalised form of
a label is only reported (and written by :func:`write_fixed_labels` to a new file on request).

Image results are cached per image file (size and modification time), in a JSON file per images
folder, so a second check only decodes new or changed images.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anpr.charset import Charset, min_ctc_steps
from anpr.data.check_images import Finding, ImageFacts, ImageLimits, facts_findings, scan_images
from anpr.data.check_issues import Issue, count_by_kind, format_issue_list, sort_issues
from anpr.data.labels import DatasetError, LabelRecord, ParsedLabels, parse_labels

log = logging.getLogger(__name__)

CACHE_VERSION = 1
# Characters normalisation removes: dots; whitespace, dashes and invisible format characters
# are recognised by their Unicode category.
_DOTS = set(".\u00b7\u2024\u2027\u30fb\uff0e\u3002")


# ----------------------------------------------------------------------------- labels


def normalise_label(text: str, charset: Charset) -> str | None:
    """The label as the charset can express it, or None when no normalisation gets there.

    Characters already in the charset are kept; others are folded (Unicode NFKC, e.g. full-width
    ``Ｋ``, then upper/lower case); spaces, dashes, dots and invisible characters are removed.
    ``kl-07 ab 1234`` -> ``KL07AB1234``.
    """
    out = []
    for char in text:
        if char in charset:
            out.append(char)
            continue
        for folded in unicodedata.normalize("NFKC", char):
            if folded in charset:
                out.append(folded)
            elif folded.upper() in charset:
                out.append(folded.upper())
            elif folded.lower() in charset:
                out.append(folded.lower())
            elif folded.isspace() or folded in _DOTS or unicodedata.category(folded) in ("Pd", "Cf", "Zs"):
                continue
            else:
                return None
    return "".join(out) or None


def describe_chars(chars: Iterable[str]) -> str:
    """``'-', ' ' (SPACE), '\\u200b' (ZERO WIDTH SPACE)`` for a message."""
    parts = []
    for char in chars:
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        plain = char.isascii() and char.isalnum()
        parts.append(repr(char) if plain else f"{char!r} ({name})")
    return ", ".join(parts)


def check_label_records(
    records: Sequence[LabelRecord], charset: Charset, time_steps: int | None = None
) -> list[Issue]:
    """Empty labels, characters outside the charset, labels too long for ``time_steps`` CTC
    steps, duplicated lines and images given two different labels."""
    issues: list[Issue] = []
    first_line: dict[tuple[str, str], int] = {}
    by_image: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for record in records:
        file, line, name, text = str(record.labels_file), record.line_number, record.image_name, record.text
        trained = text
        if not text:
            issues.append(Issue(file, line, "empty_label", f"empty label for {name}", name))
        elif charset.unknown_characters(text):
            trained = normalise_label(text, charset)
            unknown = describe_chars(charset.unknown_characters(text))
            fix = f"normalised: {trained}" if trained else "no normalisation fixes it (edit by hand)"
            issues.append(
                Issue(file, line, "bad_chars", f"{text!r} has characters outside the charset: {unknown}; {fix}", name)
            )
        if trained and time_steps is not None:
            steps = min_ctc_steps(trained)
            if steps > time_steps:
                repeats = steps - len(trained)
                issues.append(
                    Issue(
                        file, line, "too_long",
                        f"{trained!r} needs {steps} CTC time steps ({len(trained)} characters + {repeats} "
                        f"repeated neighbours), the model has {time_steps}",
                        name,
                    )
                )
        key = (name, text)
        if key in first_line:
            issues.append(Issue(file, line, "duplicate_line", f"same as line {first_line[key]}", name))
        else:
            first_line[key] = line
        if text:  # an empty label is its own problem, not a second label
            by_image[name].append((line, trained or text))
    for name, entries in by_image.items():
        if len({text for _, text in entries}) > 1:
            listing = ", ".join(f"line {line}: {text!r}" for line, text in entries)
            for line, _ in entries:
                issues.append(Issue(str(records[0].labels_file), line, "conflicting_labels",
                                    f"{name} has different labels ({listing})", name))
    return issues


# ----------------------------------------------------------------------------- images


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class ImageCache:
    """Per-image probe results keyed by (size, mtime), in ``<cache_dir>/<hash of images dir>.json``."""

    def __init__(self, images_dir: Path, cache_dir: Path | None) -> None:
        self.path = None
        self.entries: dict[str, list] = {}
        self.dirty = False
        if cache_dir is None:
            return
        key = hashlib.sha1(str(images_dir.resolve()).encode()).hexdigest()[:16]
        self.path = Path(cache_dir) / f"images-{key}.json"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == CACHE_VERSION:
                self.entries = data["entries"]
        except (OSError, ValueError, KeyError):
            self.entries = {}
        self.images_dir = str(images_dir.resolve())

    def get(self, name: str, stat: tuple[int, int], decode: bool) -> ImageFacts | Finding | None:
        entry = self.entries.get(name)
        if not entry or entry[0] != stat[0] or entry[1] != stat[1] or (decode and not entry[2]):
            return None
        if len(entry) == 5:
            return (entry[3], entry[4])
        return ImageFacts(entry[3], entry[4], entry[5], entry[6], bool(entry[2]))

    def put(self, name: str, stat: tuple[int, int], result: ImageFacts | Finding, decode: bool) -> None:
        if isinstance(result, ImageFacts):
            entry = [stat[0], stat[1], decode, result.height, result.width, result.channels, result.depth]
        else:
            entry = [stat[0], stat[1], decode, result[0], result[1]]
        self.entries[name] = entry
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        data = {"version": CACHE_VERSION, "images_dir": self.images_dir, "entries": self.entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as err:
            log.warning("could not write the data check cache %s: %s", self.path, err)


def image_findings(
    images_dir: Path,
    names: Sequence[str],
    limits: ImageLimits = ImageLimits(),
    decode: bool = True,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> tuple[dict[str, list[Finding]], int, int, float]:
    """Findings per image name, the number of images scanned now, the number taken from the
    cache and the seconds the scan took."""
    cache = ImageCache(images_dir, Path(cache_dir) if cache_dir is not None else None)
    base = str(images_dir)  # os.path rather than pathlib: this loop runs once per image
    results: dict[str, ImageFacts | Finding] = {}
    to_scan: list[tuple[str, tuple[int, int]]] = []
    cached_count = 0
    for name in names:
        path = os.path.join(base, name)
        stat = _stat(path)
        if stat is None:
            shown = path if path.isprintable() else repr(path)  # e.g. a stray BOM in the name
            results[name] = ("missing_image", f"image not found: {shown}")
            continue
        cached = cache.get(name, stat, decode)
        if cached is None:
            to_scan.append((name, stat))
        else:
            results[name] = cached
            cached_count += 1
    if on_start:
        on_start(len(to_scan))
    start = time.perf_counter()
    if to_scan:
        scanned = scan_images([os.path.join(base, n) for n, _ in to_scan], decode, workers, progress)
        for (name, stat), result in zip(to_scan, scanned):
            results[name] = result
            if not (isinstance(result, tuple) and result[0] == "missing_image"):
                cache.put(name, stat, result, decode)
        cache.save()
    seconds = time.perf_counter() - start
    findings = {
        name: facts_findings(result, os.path.join(base, name), limits) if isinstance(result, ImageFacts) else [result]
        for name, result in results.items()
    }
    return findings, len(to_scan), cached_count, seconds


# ----------------------------------------------------------------------------- the whole dataset


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


# ----------------------------------------------------------------------------- reporting


def training_error_message(reports: Sequence[CheckReport], limit: int = 20, listed_in: str | Path | None = None) -> str:
    """The message training stops with: each problem's file:line (capped), the count, what to do."""
    fatal = [i for r in reports for i in r.fatal]
    bad = sum(len(r.bad_lines - {0}) for r in reports)
    good = sum(len(r.good_records()) for r in reports)
    counts = ", ".join(f"{n} {kind}" for kind, n in count_by_kind(fatal).items())
    commands = "\n".join(
        f"  python scripts/check_data.py --images-dir {r.images_dir} --labels-file {r.labels_file}"
        for r in reports if r.fatal
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
