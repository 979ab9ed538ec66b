"""Read number plates from images: see anpr/cli/predict.py (also `anpr predict`)."""

from anpr.cli.predict import main

if __name__ == "__main__":
    raise SystemExit(main())
