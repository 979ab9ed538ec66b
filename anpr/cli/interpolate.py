"""Blend a fine-tuned checkpoint with the one it started from (WiSE-FT), into a new checkpoint.

    anpr interpolate pretrained outputs/train/<run>/checkpoints/last.ckpt --weight 0.5 --out blended.ckpt
    anpr calibrate blended.ckpt && anpr export blended.ckpt

``--weight`` is the fine-tuned side's share: 0 gives the start, 1 the fine-tune. A fine-tune
forgets part of what its start read; the blend keeps most of both (anpr/train/interpolation.py).
Choose the weight on plates you did not train on, and calibrate the result: its confidences are
neither side's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from anpr.cli.console import report_error
from anpr.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("start", help="the checkpoint the fine-tune started from (or 'pretrained')")
    p.add_argument("finetuned", type=Path, help="the fine-tuned checkpoint")
    p.add_argument("--weight", type=float, default=0.5, help="the fine-tuned checkpoint's share, 0-1 (default 0.5)")
    p.add_argument("--out", type=Path, required=True, help="the blended checkpoint (.ckpt)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from anpr.train.interpolation import interpolate_checkpoints

    try:
        blended = interpolate_checkpoints(args.start, args.finetuned, args.weight)
    except UserError as err:
        report_error(str(err))
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(blended, args.out)
    print(
        f"Wrote {args.out}: {1 - args.weight:g} x {args.start} + {args.weight:g} x {args.finetuned}. "
        f"Its confidences are uncalibrated: anpr calibrate {args.out}"
    )
    return 0
