"""Write a synthetic plate dataset and/or a labelled preview sheet of synthetic plates.

anpr synth --out data/my_synth --n 10000 --seed 1
anpr synth --preview sheet.png
anpr synth --compare ../realplates/dev --preview compare.png   # real crops beside synthetic
"""

from __future__ import annotations

import argparse
import sys
import time

from anpr.data.synth import GENERATOR_VERSION, PlateSynthesizer, render_contact_sheet, write_dataset


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="dataset folder to write (images/, labels.txt, layout.tsv, meta.json)")
    p.add_argument("--n", type=int, default=None, help="number of plates (default 10000, or 48 for --preview alone)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--two-line-fraction", type=float, default=0.25)
    p.add_argument("--workers", type=int, default=1, help="processes rendering in parallel")
    p.add_argument("--preview", help="PNG contact sheet of labelled samples to write")
    p.add_argument("--cols", type=int, default=6, help="columns of the preview sheet")
    p.add_argument(
        "--compare",
        metavar="DIR",
        help="a labelled real set (DIR/images, DIR/labels.txt, DIR/layout.tsv): the preview "
        "then shows its crops above synthetic ones, layout by layout",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = build_parser()
    args = p.parse_args(argv)
    if not args.out and not args.preview:
        p.error("give --out DIR, --preview sheet.png, or both")
    if args.compare and not args.preview:
        p.error("--compare needs --preview sheet.png to write the comparison to")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.out:
        n = args.n if args.n is not None else 10000
        start = time.perf_counter()
        out = write_dataset(
            args.out,
            n,
            seed=args.seed,
            two_line_fraction=args.two_line_fraction,
            workers=args.workers,
            progress=not args.quiet,
        )
        elapsed = time.perf_counter() - start
        print(
            f"wrote {n} plates to {out} in {elapsed:.1f} s ({n / elapsed:.0f} images/s, "
            f"generator version {GENERATOR_VERSION})"
        )
    if args.preview and args.compare:
        from pathlib import Path

        from anpr.data.synth.compare import comparison_sheet

        real = Path(args.compare)
        synth = PlateSynthesizer(seed=args.seed, two_line_fraction=args.two_line_fraction)
        path = comparison_sheet(
            real / "images", real / "labels.txt", real / "layout.tsv", args.preview, synth, per_layout=args.cols
        )
        print(f"wrote a comparison of real crops from {real} and synthetic plates to {path}")
    elif args.preview:
        n = args.n if (args.n is not None and not args.out) else 48
        synth = PlateSynthesizer(seed=args.seed, two_line_fraction=args.two_line_fraction)
        path = render_contact_sheet(synth, args.preview, n=n, cols=args.cols)
        print(f"wrote preview of {n} plates to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
