"""The `anpr` command: a dispatcher (:mod:`anpr.cli.main`) and one module per command."""

from anpr.cli.main import main

__all__ = ["main"]
