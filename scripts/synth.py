"""Write synthetic plates or a preview sheet: see anpr/cli/synth.py (also `anpr synth`)."""

from anpr.cli.synth import main

if __name__ == "__main__":
    raise SystemExit(main())
