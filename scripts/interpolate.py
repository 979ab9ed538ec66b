"""Blend a fine-tune with its start: see anpr/cli/interpolate.py (also `anpr interpolate`)."""

from anpr.cli.interpolate import main

if __name__ == "__main__":
    raise SystemExit(main())
