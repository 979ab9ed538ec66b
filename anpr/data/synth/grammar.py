"""Indian registration plate grammar: which strings are plausible plate readings."""

from __future__ import annotations

import re

# Current state / union-territory codes.
STATE_CODES = (
    "AN AP AR AS BR CG CH DD DL GA GJ HP HR JH JK KA KL LA LD MH "
    "ML MN MP MZ NL OD PB PY RJ SK TN TR TS UK UP WB"
).split()
# Codes still seen on older plates (Odisha, Uttarakhand, Dadra & Nagar Haveli) or
# newly issued (Telangana's TG); accepted so real readings are not rejected.
LEGACY_CODES = ("OR", "UA", "DN", "TG")

# Series letters skip I and O so they cannot be confused with 1 and 0.
SERIES_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# Delhi's vehicle-category letter after the district (C car, S two-wheeler, ...).
DELHI_CATEGORIES = "CSEPRTVYGL"

_STATE = "(?P<state>" + "|".join(sorted(STATE_CODES + list(LEGACY_CODES))) + ")"
_SERIES = f"[{SERIES_LETTERS}]"

_PATTERNS = {
    # DL 4C AF 1234: district, category letter, optional 1-2 letter series.
    "delhi": re.compile(
        rf"^(?P<state>DL)(?P<district>\d{{1,2}})(?P<category>[{DELHI_CATEGORIES}])"
        rf"(?P<series>{_SERIES}{{0,2}})(?P<number>\d{{1,4}})$"
    ),
    # 22 BH 1234 AA: registration year, BH, 4 digits, 1-2 letters.
    "bh": re.compile(rf"^(?P<year>\d{{2}})(?P<state>BH)(?P<number>\d{{4}})(?P<series>{_SERIES}{{1,2}})$"),
    # KL 07 AB 1234: state, district, 0-3 letter series, 1-4 digit number.
    "standard": re.compile(
        rf"^{_STATE}(?P<district>\d{{1,2}})(?P<series>{_SERIES}{{0,3}})(?P<number>\d{{1,4}})$"
    ),
}

FORMATS = tuple(_PATTERNS)


def _match(text: str) -> tuple[str, re.Match] | None:
    for name, pattern in _PATTERNS.items():
        m = pattern.fullmatch(text)
        if m and int(m["number"]) > 0:
            return name, m
    return None


def is_valid_plate(text: str) -> bool:
    """True when ``text`` (A-Z0-9 only, no spaces) follows an Indian plate format."""
    return isinstance(text, str) and _match(text) is not None


def plate_format(text: str) -> str:
    """Name of the format ``text`` follows ('delhi', 'bh', 'standard'); 'invalid' otherwise.

    Delhi plates are checked before 'standard' because a Delhi category letter
    also reads as a one-letter series.
    """
    found = _match(text) if isinstance(text, str) else None
    return found[0] if found else "invalid"


def plate_groups(text: str) -> list[str]:
    """Split a valid plate into the groups printed with gaps between them.

    ``KL07AB1234`` -> ``['KL', '07', 'AB', '1234']``; ``DL4CAF1234`` ->
    ``['DL', '4C', 'AF', '1234']``; ``22BH1234AA`` -> ``['22', 'BH', '1234', 'AA']``.
    """
    found = _match(text)
    if found is None:
        raise ValueError(f"not a valid plate: {text!r}")
    name, m = found
    if name == "bh":
        groups = [m["year"], "BH", m["number"], m["series"]]
    elif name == "delhi":
        groups = ["DL", m["district"] + m["category"], m["series"], m["number"]]
    else:
        groups = [m["state"], m["district"], m["series"], m["number"]]
    return [g for g in groups if g]
