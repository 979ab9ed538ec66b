"""A plate grammar as data: formats made of character groups, and the regex they imply.

A format is a sequence of groups (``KL`` ``07`` ``AB`` ``1234``); a group is a set of characters
repeated ``min`` to ``max`` times, optionally required to hold a non-zero number. The same
:class:`Grammar` yields the regex check (:meth:`Grammar.match`), the finite automaton the
decoder walks (:mod:`anpr.grammar.automaton`) and the sampler's validation, so all three agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from anpr.errors import UserError


class GrammarError(UserError):
    """A grammar definition that cannot be used (bad group, unknown name, unreadable file)."""


@dataclass(frozen=True)
class Group:
    """Part of a plate: one of ``words`` (``KL``, ``MH``...), or ``chars`` repeated ``min_len`` to
    ``max_len`` times. ``nonzero``: the group's digits must not all be 0 (a number > 0)."""

    name: str
    chars: str = ""
    min_len: int = 1
    max_len: int = 1
    nonzero: bool = False
    words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.chars) == bool(self.words):
            raise GrammarError(f"group {self.name!r}: give either 'chars' or 'words', not both or neither")
        if self.words:
            if any(not w for w in self.words):
                raise GrammarError(f"group {self.name!r}: words must not be empty")
            return
        if len(set(self.chars)) != len(self.chars):
            raise GrammarError(f"group {self.name!r}: chars repeat: {self.chars!r}")
        if not 0 <= self.min_len <= self.max_len or self.max_len < 1:
            raise GrammarError(
                f"group {self.name!r}: need 0 <= min <= max and max >= 1, got {self.min_len}..{self.max_len}"
            )
        if self.nonzero and self.min_len < 1:
            raise GrammarError(f"group {self.name!r}: a non-zero group needs at least one character")

    @property
    def pattern(self) -> str:
        """The group as a named regex group; ``nonzero`` is part of the pattern (not a check
        after the match), so backtracking finds e.g. ``KL010`` as district 0, number 10."""
        if self.words:
            return f"(?P<{self.name}>" + "|".join(re.escape(w) for w in sorted(self.words)) + ")"
        chars = _char_class(self.chars)
        if not self.nonzero:
            return f"(?P<{self.name}>{chars}{{{self.min_len},{self.max_len}}})"
        # The first non-zero character after j zeros, then the rest of the group.
        non_zero = _char_class(self.chars.replace("0", ""))
        options = [
            f"0{{{j}}}{non_zero}{chars}{{{max(0, self.min_len - j - 1)},{self.max_len - j - 1}}}"
            for j in range(self.max_len if "0" in self.chars else 1)
        ]
        return f"(?P<{self.name}>" + "|".join(options) + ")"


def _char_class(chars: str) -> str:
    chars = "".join(sorted(chars))
    return re.escape(chars) if len(chars) == 1 else "[" + re.escape(chars) + "]"


@dataclass(frozen=True)
class PlateFormat:
    """One way a plate may be written, e.g. ``standard``: state, district, series, number."""

    name: str
    groups: tuple[Group, ...]

    def __post_init__(self) -> None:
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise GrammarError(f"format {self.name!r}: group names repeat: {names}")
        if not self.groups:
            raise GrammarError(f"format {self.name!r} has no groups")

    @cached_property
    def regex(self) -> re.Pattern:
        return re.compile("^" + "".join(g.pattern for g in self.groups) + "$")

    def match(self, text: str) -> dict[str, str] | None:
        """The groups of ``text`` in this format, or None."""
        m = self.regex.fullmatch(text)
        return None if m is None else {g.name: m[g.name] for g in self.groups}


@dataclass(frozen=True)
class Grammar:
    """Named formats tried in order: the first that accepts a text names its format."""

    name: str
    formats: tuple[PlateFormat, ...]

    @property
    def alphabet(self) -> str:
        return "".join(sorted({c for f in self.formats for g in f.groups for c in g.chars + "".join(g.words)}))

    def match(self, text: str) -> tuple[str, dict[str, str]] | None:
        if not isinstance(text, str):
            return None
        for fmt in self.formats:
            groups = fmt.match(text)
            if groups is not None:
                return fmt.name, groups
        return None

    def is_valid(self, text: str) -> bool:
        return self.match(text) is not None

    def format_of(self, text: str) -> str:
        found = self.match(text)
        return found[0] if found else "invalid"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], name: str = "custom") -> Grammar:
        """``{"formats": {format_name: [{name, chars, min, max, nonzero}, ...]}}`` (the YAML form)."""
        formats = data.get("formats") if isinstance(data, Mapping) else None
        if not isinstance(formats, Mapping) or not formats:
            raise GrammarError(f"grammar {name!r}: expected a 'formats' mapping of format name -> list of groups")
        built = []
        for fmt_name, groups in formats.items():
            if not isinstance(groups, Sequence) or isinstance(groups, str):
                raise GrammarError(f"grammar {name!r}, format {fmt_name!r}: expected a list of groups")
            built.append(PlateFormat(str(fmt_name), tuple(_group(name, fmt_name, g) for g in groups)))
        return cls(str(data.get("name", name)), tuple(built))


def _group(grammar: str, fmt: str, spec: Any) -> Group:
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise GrammarError(f"grammar {grammar!r}, format {fmt!r}: each group needs a 'name', got {spec!r}")
    unknown = set(spec) - {"name", "chars", "words", "min", "max", "nonzero"}
    if unknown:
        raise GrammarError(f"grammar {grammar!r}, format {fmt!r}: unknown group keys {sorted(unknown)}")
    words = spec.get("words") or ()
    words = tuple(words.split() if isinstance(words, str) else (str(w) for w in words))
    low = int(spec.get("min", 1))
    try:
        return Group(
            str(spec["name"]),
            str(spec.get("chars", "")),
            low,
            int(spec.get("max", low)),
            bool(spec.get("nonzero", False)),
            words,
        )
    except GrammarError as err:
        raise GrammarError(f"grammar {grammar!r}, format {fmt!r}: {err}") from None
