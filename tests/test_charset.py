"""Encoding labels and greedy CTC decoding."""

from __future__ import annotations

import numpy as np
import pytest

from anpr.charset import Charset, UnknownCharacterError, min_ctc_steps
from anpr.decoding.ctc import greedy_decode


def one_hot_path(charset: Charset, path: list[int], p: float = 0.9) -> np.ndarray:
    probs = np.full((1, len(path), charset.num_classes), (1 - p) / (charset.num_classes - 1))
    for t, cls in enumerate(path):
        probs[0, t, cls] = p
    return probs


def test_default_charset_is_blank_plus_letters_and_digits() -> None:
    charset = Charset()
    assert charset.num_classes == 37
    assert charset.encode("A") == [1] and charset.encode("0") == [27]


def test_encoding_refuses_unknown_characters_instead_of_dropping_them() -> None:
    with pytest.raises(UnknownCharacterError, match="'-'"):
        Charset().encode("KL-07")


def test_greedy_decoding_collapses_repeats_and_drops_blanks() -> None:
    charset = Charset("AB1")
    a, b, one = 1, 2, 3
    decoded = greedy_decode(charset, one_hot_path(charset, [0, a, a, 0, a, b, b, 0, one, 0]))[0]
    assert decoded.text == "AAB1"
    assert decoded.confidence == pytest.approx(0.9)
    assert len(decoded.char_confidences) == 4


def test_confidence_is_the_weakest_character() -> None:
    charset = Charset("AB")
    probs = one_hot_path(charset, [1, 0, 2])
    probs[0, 2] = [0.3, 0.1, 0.6]
    assert greedy_decode(charset, probs)[0].confidence == pytest.approx(0.6)


def test_configurable_charset_round_trips() -> None:
    charset = Charset("XYZ")
    assert charset.decode_indices(charset.encode("ZZY")) == "ZZY"


def test_min_ctc_steps_counts_blanks_between_repeats() -> None:
    assert min_ctc_steps("KL07AB1234") == 10
    assert min_ctc_steps("MH1111") == 9
