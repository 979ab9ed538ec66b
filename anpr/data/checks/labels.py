"""Checking the labels themselves: text the charset cannot express, labels too long for the model's
CTC time steps, duplicated lines and images given two different labels.

The normalised form of a label is only reported here (and written to a new file by
:func:`~anpr.data.checks.fix.write_fixed_labels` on request): the checks never change data.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence

from anpr.charset import Charset, min_ctc_steps
from anpr.data.checks.issues import Issue
from anpr.data.labels import LabelRecord

# Characters normalisation removes: dots; whitespace, dashes and invisible format characters
# are recognised by their Unicode category.
_DOTS = set(".\u00b7\u2024\u2027\u30fb\uff0e\u3002")


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


def check_label_records(records: Sequence[LabelRecord], charset: Charset, time_steps: int | None = None) -> list[Issue]:
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
                        file,
                        line,
                        "too_long",
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
                issues.append(
                    Issue(
                        str(records[0].labels_file),
                        line,
                        "conflicting_labels",
                        f"{name} has different labels ({listing})",
                        name,
                    )
                )
    return issues
