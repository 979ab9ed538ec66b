"""Random plate strings that follow the Indian formats with realistic frequencies."""

from __future__ import annotations

import numpy as np

from anpr.grammar import plate_format
from anpr.grammar.india import DELHI_CATEGORIES, SERIES_LETTERS, STATE_CODES

# Rough share of registered vehicles; small states keep a floor so every code is seen.
_STATE_WEIGHT = {
    "MH": 13,
    "UP": 11,
    "TN": 9,
    "KA": 8,
    "GJ": 7,
    "RJ": 6,
    "DL": 6,
    "KL": 5,
    "MP": 5,
    "AP": 4.5,
    "TS": 4,
    "WB": 4,
    "HR": 3.5,
    "PB": 3,
    "BR": 3,
    "OD": 2.5,
    "CG": 2,
    "JH": 2,
    "UK": 1.5,
    "AS": 1.5,
    "HP": 1,
    "JK": 1,
    "GA": 0.8,
    "CH": 0.6,
}
_STATE_P = np.array([_STATE_WEIGHT.get(s, 0.3) for s in STATE_CODES], dtype=float)
_STATE_P /= _STATE_P.sum()

# Highest district number in use, roughly; unknown states get a small range.
_MAX_DISTRICT = {
    "MH": 51,
    "UP": 96,
    "TN": 99,
    "KA": 71,
    "GJ": 39,
    "RJ": 58,
    "KL": 86,
    "MP": 71,
    "AP": 40,
    "TS": 38,
    "WB": 98,
    "HR": 99,
    "PB": 99,
    "BR": 57,
    "OD": 35,
    "CG": 30,
    "JH": 24,
    "UK": 20,
    "AS": 34,
    "HP": 99,
    "JK": 22,
    "GA": 12,
    "CH": 4,
    "DL": 13,
}
_DELHI_CATEGORY_P = np.array([0.55, 0.2] + [0.25 / (len(DELHI_CATEGORIES) - 2)] * (len(DELHI_CATEGORIES) - 2))


def _letters(rng: np.random.Generator, n: int) -> str:
    return "".join(SERIES_LETTERS[i] for i in rng.integers(0, len(SERIES_LETTERS), n))


def _number(rng: np.random.Generator, padded_p: float = 0.92) -> str:
    """Registration number: usually 0001-9999 zero-padded, sometimes printed short."""
    if rng.random() < padded_p:
        return f"{int(rng.integers(1, 10000)):04d}"
    digits = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.2, 0.35, 0.35]))
    return str(int(rng.integers(10 ** (digits - 1), 10**digits)))


# States whose plates often print a one-digit district unpadded ('GJ.1.KE.2245', 'GJ 5 AB 1234').
_SHORT_DISTRICT_P = {"GJ": 0.45}


def _district(rng: np.random.Generator, state: str, padded_p: float = 0.9) -> str:
    d = int(rng.integers(1, _MAX_DISTRICT.get(state, 20) + 1))
    if d < 10 and rng.random() < _SHORT_DISTRICT_P.get(state, 0.0):
        return str(d)
    return f"{d:02d}" if rng.random() < padded_p else str(d)


def _standard(rng: np.random.Generator, state: str) -> str:
    n_series = int(rng.choice([0, 1, 2, 3], p=[0.05, 0.2, 0.71, 0.04]))
    return state + _district(rng, state) + _letters(rng, n_series) + _number(rng)


def _delhi(rng: np.random.Generator) -> str:
    district = str(int(rng.integers(1, 14)))
    category = DELHI_CATEGORIES[int(rng.choice(len(DELHI_CATEGORIES), p=_DELHI_CATEGORY_P))]
    n_series = int(rng.choice([0, 1, 2], p=[0.2, 0.25, 0.55]))
    return "DL" + district + category + _letters(rng, n_series) + _number(rng, 0.9)


def _bh(rng: np.random.Generator) -> str:
    year = int(rng.integers(21, 27))
    number = f"{int(rng.integers(1, 10000)):04d}"
    return f"{year}BH{number}{_letters(rng, int(rng.integers(1, 3)))}"


def sample_plate(rng: np.random.Generator) -> tuple[str, str]:
    """Return ``(text, format)`` for one random plate; the text passes the grammar."""
    if rng.random() < 0.05:
        text = _bh(rng)
    else:
        state = STATE_CODES[int(rng.choice(len(STATE_CODES), p=_STATE_P))]
        # Delhi needs extra weight here: its own format teaches the category letter.
        if state == "DL" or rng.random() < 0.04:
            text = _delhi(rng) if rng.random() < 0.9 else _standard(rng, "DL")
        else:
            text = _standard(rng, state)
    fmt = plate_format(text)
    assert fmt != "invalid", text
    return text, fmt


def sample_plate_text(rng: np.random.Generator) -> str:
    """One random plate string (A-Z0-9 only) such as ``KL07AB1234``."""
    return sample_plate(rng)[0]
