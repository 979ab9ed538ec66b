"""`python -m anpr <command> ...`, the same as the `anpr` command."""

from anpr.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
