"""Check a rec-format plate dataset before training: see anpr/cli/check.py (also `anpr check`)."""

from anpr.cli.check import main

if __name__ == "__main__":
    raise SystemExit(main())
