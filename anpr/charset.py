"""The plate alphabet: characters to CTC classes and back."""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BLANK_INDEX = 0


class UnknownCharacterError(ValueError):
    """A label holds a character the model cannot emit (never dropped silently)."""


class Charset:
    """Maps characters to CTC classes; class 0 is the blank, characters follow in order."""

    def __init__(self, characters: str = DEFAULT_CHARACTERS) -> None:
        if len(set(characters)) != len(characters):
            raise ValueError(f"charset has repeated characters: {characters!r}")
        if not characters:
            raise ValueError("charset is empty")
        self.characters = characters
        self._index = {c: i + 1 for i, c in enumerate(characters)}

    @property
    def num_classes(self) -> int:
        return len(self.characters) + 1

    def __contains__(self, char: str) -> bool:
        return char in self._index

    def unknown_characters(self, text: str) -> list[str]:
        return sorted({c for c in text if c not in self._index})

    def encode(self, text: str) -> list[int]:
        """Class indices of ``text``; raises on any character outside the charset."""
        unknown = self.unknown_characters(text)
        if unknown:
            raise UnknownCharacterError(f"label {text!r} has characters outside the charset: {''.join(unknown)!r}")
        return [self._index[c] for c in text]

    def decode_indices(self, indices: Sequence[int]) -> str:
        """Text of a label's class indices (no CTC collapsing)."""
        return "".join(self.characters[i - 1] for i in indices if i != BLANK_INDEX)


def min_ctc_steps(text: str) -> int:
    """Time steps CTC needs for ``text``: one per character plus a blank between repeats."""
    return len(text) + sum(1 for a, b in zip(text, text[1:]) if a == b)
