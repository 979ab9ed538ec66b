"""Export a checkpoint to ONNX (optionally int8): see anpr/cli/export.py (also `anpr export`)."""

from anpr.cli.export import main

if __name__ == "__main__":
    raise SystemExit(main())
