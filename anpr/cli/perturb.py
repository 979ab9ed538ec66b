"""Perturbed copies of a labelled crop set, one folder per detector condition, for evaluation.

    anpr perturb --images-dir crops/images --labels-file crops/labels.txt \\
        --layouts-file crops/layout.tsv --out outputs/perturbed
    anpr evaluate model.onnx --images-dir outputs/perturbed/loose/images \\
        --labels-file outputs/perturbed/loose/labels.txt --layouts-file outputs/perturbed/loose/layout.tsv

Conditions (anpr/evaluate/perturb.py): loose (30% of the height added on every side), cut (4-8% cut into
the plate), rotate7, jpeg12, night (dark, gamma-crushed, noisy), small16 (16 px high), motion4
(horizontal motion blur across 4% of the width). Deterministic: the same files on every run.
`anpr evaluate MODEL ... --conditions all` makes the same copies and reads them in one go.
Images are written as PNG so no further compression is added.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from anpr.cli.console import report_error
from anpr.errors import UserError
from anpr.evaluate.perturb import CONDITIONS, perturb_dataset


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images-dir", type=Path, required=True)
    p.add_argument("--labels-file", type=Path, required=True)
    p.add_argument("--layouts-file", type=Path, default=None, help="copied next to each condition's labels")
    p.add_argument("--out", type=Path, required=True, help="one folder per condition is written here")
    p.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        folders = perturb_dataset(
            args.images_dir, args.labels_file, args.out, args.conditions, args.layouts_file, args.seed
        )
    except (UserError, OSError) as err:
        report_error(str(err))
        return 2
    for folder in folders:
        print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
