"""Serve plate reading over HTTP: see anpr/cli/serve.py (also `anpr serve`)."""

from anpr.cli.serve import main

if __name__ == "__main__":
    raise SystemExit(main())
