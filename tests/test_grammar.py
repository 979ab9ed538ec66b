"""The plate grammar: one definition, and its regex check and automaton accept the same strings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from anpr.charset import DEFAULT_CHARACTERS
from anpr.data.synth.text import sample_plate_text
from anpr.grammar import INDIA, GrammarError, compile_automaton, load_grammar


@pytest.fixture(scope="module")
def automaton():
    return compile_automaton(INDIA, DEFAULT_CHARACTERS)


def _mutations(text: str, rng: np.random.Generator, count: int) -> list[str]:
    """Near misses of a valid plate: one character substituted, inserted or deleted."""
    out = []
    for _ in range(count):
        i = int(rng.integers(0, len(text)))
        c = DEFAULT_CHARACTERS[int(rng.integers(0, len(DEFAULT_CHARACTERS)))]
        kind = int(rng.integers(0, 3))
        out.append(
            text[:i] + c + text[i + 1 :]
            if kind == 0
            else text[:i] + c + text[i:]
            if kind == 1
            else text[:i] + text[i + 1 :]
        )
    return out


def test_automaton_and_regex_agree_on_sampled_plates_and_their_near_misses(automaton):
    rng = np.random.default_rng(0)
    plates = [sample_plate_text(rng) for _ in range(2000)]
    assert all(INDIA.is_valid(p) and automaton.accepts(p) for p in plates)  # the sampler emits valid plates
    near = [m for p in plates[:500] for m in _mutations(p, rng, 6)]
    randoms = ["".join(rng.choice(list(DEFAULT_CHARACTERS), size=int(rng.integers(1, 12)))) for _ in range(5000)]
    checked = near + randoms
    disagree = [t for t in checked if automaton.accepts(t) != INDIA.is_valid(t)]
    assert not disagree, disagree[:10]
    accepted = sum(INDIA.is_valid(t) for t in near)
    assert 0.05 * len(near) < accepted < 0.95 * len(near)  # the comparison covers both answers


@pytest.mark.slow
def test_automaton_and_regex_agree_on_every_short_string_over_a_small_alphabet(automaton):
    alphabet = "KLD0123A"  # state and Delhi codes, zero and non-zero digits, a series letter
    strings = ["".join(p) for n in range(1, 7) for p in itertools.product(alphabet, repeat=n)]
    disagree = [t for t in strings if automaton.accepts(t) != INDIA.is_valid(t)]
    assert not disagree, disagree[:10]
    assert sum(INDIA.is_valid(t) for t in strings) > 1000


@pytest.mark.parametrize(
    "text,expected",
    [
        ("KL07AB1234", "standard"),
        ("UP16Z5678", "standard"),
        ("KL7A1", "standard"),
        ("OR02AB0001", "standard"),
        ("DL4CAF1234", "delhi"),
        ("DL12SHU8036", "delhi"),
        ("KL010", "standard"),
        ("KL1000", "invalid"),
        ("KL1001", "standard"),
        ("22BH1234AA", "bh"),
        ("KL07AB0000", "invalid"),
        ("KL07AI1234", "invalid"),
        ("XX07AB1234", "invalid"),
        ("22BH0000AA", "invalid"),
        ("KL07ABCD1234", "invalid"),
        ("KL07AB12345", "invalid"),
    ],
)
def test_formats_and_the_automaton_on_known_plates(automaton, text, expected):
    assert INDIA.format_of(text) == expected
    assert automaton.accepts(text) == (expected != "invalid")


def test_automaton_is_small_and_dead_ends_early(automaton):
    assert automaton.num_states < 80
    assert automaton.run("CA") == -1 and automaton.run("KL07AB1234") != -1  # no state code starts with CA


def test_a_yaml_grammar_replaces_the_indian_one(tmp_path):
    path = tmp_path / "depot.yaml"
    path.write_text(
        "formats:\n"
        "  depot:\n"
        "    - {name: prefix, words: [DEP, YRD]}\n"
        "    - {name: number, chars: '0123456789', min: 2, max: 3, nonzero: true}\n"
    )
    grammar = load_grammar(str(path))
    automaton = compile_automaton(grammar, DEFAULT_CHARACTERS)
    for text, ok in [("DEP12", True), ("YRD007", True), ("DEP00", False), ("DEP1", False), ("KL07AB1234", False)]:
        assert grammar.is_valid(text) == ok and automaton.accepts(text) == ok, text
    assert load_grammar("none") is None and load_grammar("india") is INDIA
    assert load_grammar("anpr.grammar.india:INDIA") is INDIA


@pytest.mark.parametrize(
    "content,message",
    [
        ("formats: {x: [{name: a}]}\n", "either 'chars' or 'words'"),
        ("formats: {x: [{name: a, chars: AB, min: 3, max: 2}]}\n", "0 <= min <= max"),
        ("nothing: here\n", "'formats' mapping"),
        ("formats: {x: [{name: a, chars: AB, colour: red}]}\n", "unknown group keys"),
    ],
)
def test_a_bad_grammar_file_is_refused_with_its_name(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(GrammarError, match=message) as info:
        load_grammar(str(path))
    assert str(path) in str(info.value)


def test_unknown_grammar_names_say_what_is_accepted():
    with pytest.raises(GrammarError, match="india"):
        load_grammar("indai")
    with pytest.raises(GrammarError, match="not found"):
        load_grammar("missing.yaml")
