"""Indian registration plates: the built-in grammar (standard, Delhi and BH series formats).

The synthetic plate sampler, the format check, evaluation's per-format breakdown and the
grammar-constrained decoder all read plates through :data:`INDIA`.
"""

from __future__ import annotations

from .spec import Grammar, Group, PlateFormat

# Current state / union-territory codes.
STATE_CODES = (
    "AN AP AR AS BR CG CH DD DL GA GJ HP HR JH JK KA KL LA LD MH ML MN MP MZ NL OD PB PY RJ SK TN TR TS UK UP WB"
).split()
# Codes still seen on older plates (Odisha, Uttarakhand, Dadra & Nagar Haveli) or
# newly issued (Telangana's TG); accepted so real readings are not rejected.
LEGACY_CODES = ("OR", "UA", "DN", "TG")

DIGITS = "0123456789"
# Series letters skip I and O so they cannot be confused with 1 and 0.
SERIES_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# Delhi's vehicle-category letter after the district (C car, S two-wheeler, ...).
DELHI_CATEGORIES = "CSEPRTVYGL"

INDIA = Grammar(
    "india",
    (
        # DL 4C AF 1234: district, category letter, optional 1-2 letter series. Tried before
        # 'standard' because a Delhi category letter also reads as a one-letter series.
        PlateFormat(
            "delhi",
            (
                Group("state", words=("DL",)),
                Group("district", DIGITS, 1, 2),
                Group("category", DELHI_CATEGORIES),
                Group("series", SERIES_LETTERS, 0, 2),
                Group("number", DIGITS, 1, 4, nonzero=True),
            ),
        ),
        # 22 BH 1234 AA: registration year, BH, 4 digits, 1-2 letters.
        PlateFormat(
            "bh",
            (
                Group("year", DIGITS, 2, 2),
                Group("state", words=("BH",)),
                Group("number", DIGITS, 4, 4, nonzero=True),
                Group("series", SERIES_LETTERS, 1, 2),
            ),
        ),
        # KL 07 AB 1234: state, district, 0-3 letter series, 1-4 digit number.
        PlateFormat(
            "standard",
            (
                Group("state", words=tuple(sorted(STATE_CODES + list(LEGACY_CODES)))),
                Group("district", DIGITS, 1, 2),
                Group("series", SERIES_LETTERS, 0, 3),
                Group("number", DIGITS, 1, 4, nonzero=True),
            ),
        ),
    ),
)

FORMATS = tuple(f.name for f in INDIA.formats)


def is_valid_plate(text: str) -> bool:
    """True when ``text`` (A-Z0-9 only, no spaces) follows an Indian plate format."""
    return INDIA.is_valid(text)


def plate_format(text: str) -> str:
    """Name of the format ``text`` follows ('delhi', 'bh', 'standard'); 'invalid' otherwise."""
    return INDIA.format_of(text)


def plate_groups(text: str) -> list[str]:
    """Split a valid plate into the groups printed with gaps between them.

    ``KL07AB1234`` -> ``['KL', '07', 'AB', '1234']``; ``DL4CAF1234`` ->
    ``['DL', '4C', 'AF', '1234']``; ``22BH1234AA`` -> ``['22', 'BH', '1234', 'AA']``.
    """
    found = INDIA.match(text)
    if found is None:
        raise ValueError(f"not a valid plate: {text!r}")
    name, g = found
    if name == "bh":
        groups = [g["year"], "BH", g["number"], g["series"]]
    elif name == "delhi":
        groups = ["DL", g["district"] + g["category"], g["series"], g["number"]]
    else:
        groups = [g["state"], g["district"], g["series"], g["number"]]
    return [part for part in groups if part]
