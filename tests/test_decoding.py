"""Decoding CTC outputs: exact reading probabilities, grammar-constrained search, n-best, review."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
import torch

from anpr.charset import DEFAULT_CHARACTERS as CHARS
from anpr.decoding import PlateDecoder, best_path_labels, log_softmax, sequence_log_likelihood
from anpr.grammar import INDIA


def frames(spec: list[dict[str, float]]) -> np.ndarray:
    """(1, time, 37) logits whose softmax puts the given probabilities on each frame ('-': blank)."""
    rows = []
    for probs in spec:
        row = np.full(len(CHARS) + 1, 1e-9)
        for char, p in probs.items():
            row[0 if char == "-" else CHARS.index(char) + 1] = p
        rows.append(np.log(row / row.sum()))
    return np.array(rows)[None]


def plate_frames(text: str, doubts: dict[int, dict[str, float]] | None = None) -> np.ndarray:
    """Each character on its own frame followed by a blank frame; ``doubts`` replaces frames."""
    spec = []
    for i, char in enumerate(text):
        spec.append((doubts or {}).get(i, {char: 0.95, "-": 0.05}))
        spec.append({"-": 0.99, char: 0.01})
    return frames(spec)


def torch_ctc_log_likelihood(logits: np.ndarray, texts: list[str]) -> np.ndarray:
    log_probs = torch.from_numpy(log_softmax(logits)).permute(1, 0, 2)
    targets = torch.tensor([CHARS.index(c) + 1 for t in texts for c in t])
    frames_ = torch.full((logits.shape[0],), logits.shape[1])
    lengths = torch.tensor([len(t) for t in texts])
    return -torch.nn.functional.ctc_loss(log_probs, targets, frames_, lengths, reduction="none").numpy()


def test_sequence_log_likelihood_is_minus_the_ctc_loss():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 14, len(CHARS) + 1)) * 3
    texts = ["KL07", "AA", "", "1111", "DL4CAF12", "Z"]
    labels = [[CHARS.index(c) + 1 for c in t] for t in texts]
    ours = sequence_log_likelihood(log_softmax(logits), labels)
    np.testing.assert_allclose(ours, torch_ctc_log_likelihood(logits, texts), rtol=1e-6)


def test_a_repeated_character_needs_a_blank_between_its_frames():
    # D on two neighbouring frames is one D; D, blank, D is two.
    joined = frames([{"M": 1}, {"H": 1}, {"1": 1}, {"2": 1}, {"D": 1}, {"D": 1}, {"-": 1}, {"1": 1}, {"3": 1}])
    apart = frames([{"M": 1}, {"H": 1}, {"1": 1}, {"2": 1}, {"D": 1}, {"-": 1}, {"D": 1}, {"1": 1}, {"3": 1}])
    decoder = PlateDecoder(CHARS)
    assert decoder(joined)[0].text == "MH12D13"
    assert decoder(apart)[0].text == "MH12DD13"
    assert [CHARS[c - 1] for c in best_path_labels(apart)[0]] == list("MH12DD13")


def test_the_best_valid_reading_replaces_an_invalid_greedy_one():
    # The model prefers 8 over B in the series, and KL07A81234 is no plate; KL07AB1234 is.
    logits = plate_frames("KL07AB1234", {5: {"8": 0.6, "B": 0.35, "-": 0.05}})
    read = PlateDecoder(CHARS)(logits)[0]
    assert read.free_text == "KL07A81234" and not INDIA.is_valid(read.free_text)
    assert read.text == "KL07AB1234" and read.valid_format is True
    assert read.confidence < read.free_confidence  # it is less likely than the free reading, but valid
    greedy = PlateDecoder(CHARS, decoder="greedy")(logits)[0]
    assert greedy.text == "KL07A81234" and greedy.valid_format is False


def test_the_free_reading_is_kept_when_nothing_valid_is_likely():
    # A five-digit number is no Indian plate; dropping the 5 would make one, at 1/500 the odds.
    sure = {i: {c: 0.9999, "-": 1e-4} for i, c in enumerate("KL07AB1234")}
    logits = plate_frames("KL07AB12345", {**sure, 10: {"5": 0.998, "-": 0.002}})
    read = PlateDecoder(CHARS)(logits)[0]
    assert read.text == "KL07AB12345" and read.valid_format is False
    assert read.confidence == pytest.approx(read.free_confidence)
    assert read.alternatives[0][0] == "KL07AB1234"  # the valid option is still reported
    # With the ratio at 0 the best valid reading is returned however unlikely it is.
    forced = PlateDecoder(CHARS, min_valid_ratio=0.0)(logits)[0]
    assert forced.text == "KL07AB1234" and forced.valid_format is True
    # Nothing valid among the likely characters at all: the free reading, flagged.
    vanity = PlateDecoder(CHARS, min_valid_ratio=0.0)(plate_frames("HELLO123"))[0]
    assert vanity.text == "HELLO123" and vanity.valid_format is False and vanity.alternatives == ()


def test_n_best_readings_are_the_likeliest_valid_strings_with_exact_probabilities():
    # Few enough paths to enumerate: every path's collapse, summed per string, is the truth.
    spec = [
        {"K": 0.9, "-": 0.1},
        {"L": 0.8, "-": 0.2},
        {"1": 0.5, "7": 0.3, "-": 0.2},
        {"A": 0.6, "4": 0.3, "-": 0.1},
        {"1": 0.4, "4": 0.35, "-": 0.25},
        {"-": 0.7, "4": 0.3},
    ]
    logits = frames(spec)
    totals: dict[str, float] = defaultdict(float)
    options = [list(step.items()) for step in spec]
    for path in itertools.product(*options):
        text, previous, p = "", "-", 1.0
        for char, q in path:
            p *= q
            if char != "-" and char != previous:
                text += char
            previous = char
        totals[text] += p
    valid = sorted(((p, t) for t, p in totals.items() if INDIA.is_valid(t)), reverse=True)
    read = PlateDecoder(CHARS, n_best=3)(logits)[0]
    assert [t for t, _ in read.alternatives] == [t for _, t in valid[:3]]
    np.testing.assert_allclose([p for _, p in read.alternatives], [p for p, _ in valid[:3]], rtol=1e-4)
    assert read.text == valid[0][1]


def test_confidence_is_the_probability_of_the_reading_after_the_temperature():
    rng = np.random.default_rng(1)
    logits = plate_frames("MH12DE1433") + rng.normal(0, 0.3, size=(1, 20, len(CHARS) + 1))
    for temperature in (1.0, 2.0):
        read = PlateDecoder(CHARS, temperature=temperature)(logits)[0]
        expected = torch_ctc_log_likelihood(logits / temperature, [read.text])[0]
        assert read.confidence == pytest.approx(np.exp(expected), rel=1e-6)


def test_min_confidence_marks_reads_for_review():
    sure = plate_frames("KL07AB1234")
    unsure = plate_frames("KL07AB1234", {9: {"4": 0.5, "1": 0.4, "-": 0.1}})
    reads = PlateDecoder(CHARS)(np.concatenate([sure, unsure]), min_confidence=0.6)
    assert [r.review for r in reads] == [False, True]
    assert all(not r.review for r in PlateDecoder(CHARS)(np.concatenate([sure, unsure])))


def test_without_a_grammar_both_decoders_read_free_text():
    logits = plate_frames("KL07AB1234", {5: {"8": 0.6, "B": 0.35, "-": 0.05}})
    for decoder in ("greedy", "grammar"):
        read = PlateDecoder(CHARS, decoder=decoder, grammar="none")(logits)[0]
        assert read.text == "KL07A81234" and read.valid_format is None and read.alternatives == ()


def test_one_best_skips_the_search_only_where_it_cannot_change_the_reading():
    rng = np.random.default_rng(3)
    texts = ["KL07AB1234", "MH12DE1433", "DL4CAF1234", "22BH1234AA", "TN01AB1234"]
    logits = np.concatenate([plate_frames(t) for t in texts for _ in range(4)])
    logits = logits + rng.normal(0, 2.0, size=logits.shape)  # some reads stay sure, others do not
    one, three = PlateDecoder(CHARS, n_best=1)(logits), PlateDecoder(CHARS, n_best=3)(logits)
    assert [r.text for r in one] == [r.text for r in three]
    np.testing.assert_allclose([r.confidence for r in one], [r.confidence for r in three], rtol=1e-9)
    assert any(r.confidence >= 0.5 for r in one) and any(r.confidence < 0.5 for r in one)
