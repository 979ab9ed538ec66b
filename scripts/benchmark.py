"""Inference and training benchmarks as Markdown tables: see anpr/cli/benchmark.py (also `anpr benchmark`)."""

from anpr.cli.benchmark import main

if __name__ == "__main__":
    raise SystemExit(main())
