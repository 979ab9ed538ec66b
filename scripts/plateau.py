"""Measure how many steps training spends on the CTC plateau, over seeds and variants.

    python scripts/plateau.py --seeds 0 1 2 --variant baseline --variant blank model.blank_prior=0.8
    python scripts/plateau.py --variant cpu_hour experiment=cpu_hour --give-up-after 4000

Each run trains the given recipe (any train.py overrides) until the model first reads 1% of its
training plates (train/plateau_exit_step, see anpr/plateau.py), then stops; prints a Markdown
table with the exit step of each seed and the median.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from anpr.bench.plateau import run_one, table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--variant",
        nargs="+",
        action="append",
        metavar=("NAME", "OVERRIDE"),
        help="a name and its train.py overrides; repeat for several (default: baseline)",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--give-up-after", type=int, default=3000, help="steps on the plateau before a run stops")
    p.add_argument("--out", type=Path, default=Path("outputs/plateau"), help="run folders and logs")
    args = p.parse_args(argv)
    variants = args.variant or [["baseline"]]
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for name, *overrides in variants:
        for seed in args.seeds:
            run = run_one(name, overrides, seed, args.give_up_after, args.out)
            print(f"{name} seed {seed}: exit step {run.exit_step} ({run.seconds:.0f} s)", flush=True)
            runs.append(run)
    report = table(runs, args.give_up_after)
    print(report)
    (args.out / "plateau.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
