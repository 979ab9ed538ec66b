"""The decoding options every reading command takes, with one meaning everywhere."""

from __future__ import annotations

import argparse
from typing import Any

from anpr.decoding.decoder import DECODERS, DEFAULT_DECODER, DEFAULT_MIN_VALID_RATIO
from anpr.grammar import FROM_MODEL
from anpr.inference.second_look import FROM_READER_FILE
from anpr.inference.views import VIEWS


def add_decoding_arguments(parser: argparse.ArgumentParser, review: bool = True) -> None:
    group = parser.add_argument_group("decoding")
    group.add_argument(
        "--decoder",
        choices=DECODERS,
        default=DEFAULT_DECODER,
        help="grammar: the most probable reading a plate format allows (default); "
        "greedy: the best CTC path, unconstrained",
    )
    group.add_argument(
        "--grammar",
        default=FROM_MODEL,
        help=f"plate formats: {FROM_MODEL} (default: those stored in the model file), india, none (free text), "
        "a YAML file or module:NAME",
    )
    group.add_argument(
        "--min-valid-ratio",
        type=float,
        default=DEFAULT_MIN_VALID_RATIO,
        help="keep the best valid reading while it is at least this share as likely as the "
        f"free reading; otherwise report the free reading as not a valid format "
        f"(default {DEFAULT_MIN_VALID_RATIO})",
    )
    group.add_argument(
        "--views",
        nargs="+",
        choices=tuple(VIEWS),
        default=None,
        metavar="VIEW",
        help="read each crop boxed several ways and keep the reading they agree on, with a "
        f"confidence that drops where they disagree: {', '.join(VIEWS)} (default: full, or those a "
        "reader file names); each view costs one more model call",
    )
    group.add_argument(
        "--no-second-look",
        dest="second_look",
        action="store_const",
        const=None,
        default=FROM_READER_FILE,
        help="read every crop once, without the second look a reader file gives doubtful crops "
        "(pretrained's reads those below 0.8 again in a wider and a tighter box)",
    )
    if review:
        group.add_argument(
            "--n-best",
            type=int,
            default=3,
            help="valid readings listed as alternatives in --json, likeliest first (default 3; "
            "1 is fastest: a confident valid greedy reading then needs no search)",
        )
        group.add_argument(
            "--min-confidence",
            type=float,
            default=None,
            help="mark reads whose confidence (probability of the reading) is below this "
            "as 'review' (the exit code does not change)",
        )


def decoding_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :meth:`anpr.inference.PlateReader.from_path`."""
    return {
        "decoder": args.decoder,
        "grammar": args.grammar,
        "min_valid_ratio": args.min_valid_ratio,
        "n_best": getattr(args, "n_best", 1),
        "views": args.views,
        "second_look": getattr(args, "second_look", FROM_READER_FILE),
    }
