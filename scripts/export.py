"""Export a checkpoint to ONNX (optionally int8): see anpr/commands/export.py (also `anpr export`)."""

from anpr.commands.export import main

if __name__ == "__main__":
    raise SystemExit(main())
