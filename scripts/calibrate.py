"""Fit a model's confidence temperature: see anpr/cli/calibrate.py (also `anpr calibrate`)."""

from anpr.cli.calibrate import main

if __name__ == "__main__":
    raise SystemExit(main())
