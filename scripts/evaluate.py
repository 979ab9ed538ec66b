"""Evaluate a model on a labelled plate set: see anpr/cli/evaluate.py (also `anpr evaluate`)."""

from anpr.cli.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
