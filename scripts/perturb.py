"""Perturbed copies of a labelled crop set: see anpr/cli/perturb.py (also `anpr perturb`)."""

from anpr.cli.perturb import main

if __name__ == "__main__":
    raise SystemExit(main())
