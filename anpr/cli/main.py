"""`anpr <command> [arguments]`: one entry point for every command in anpr/cli/.

Each command's module is imported only when that command runs, so `anpr predict` does not load
Lightning or Hydra and `anpr --help` loads nothing at all.
"""

from __future__ import annotations

import importlib
import os
import sys

from anpr.errors import UserError

# command (its module in anpr.cli) -> the line the usage listing shows for it
COMMANDS = {
    "train": "train a plate reader (Hydra overrides of conf/train.yaml)",
    "synth": "write a synthetic plate dataset or a preview sheet",
    "check": "check a labelled plate dataset before training on it",
    "predict": "read plates from image files with a .ckpt or .onnx model",
    "evaluate": "accuracy, calibration and mistakes on a labelled plate set",
    "export": "export a checkpoint to ONNX, check parity, optionally int8",
    "benchmark": "inference or training speed as a Markdown table",
    "calibrate": "fit a model's confidence temperature and store it in the file",
    "perturb": "perturbed copies of a labelled crop set, one per detector condition",
    "interpolate": "blend a fine-tuned checkpoint with the one it started from",
    "serve": "read plates over HTTP, with a page to review doubtful reads",
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: anpr <command> [arguments]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, summary in COMMANDS.items()]
    lines += ["", "`anpr <command> --help` shows a command's own arguments."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to ``anpr.cli.<module>.main``; ``anpr`` alone prints the usage and exits 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(usage(), file=sys.stderr)
        return 2
    name, rest = argv[0], argv[1:]
    if name in ("-h", "--help"):
        print(usage())
        return 0
    if name not in COMMANDS:
        print(f"error: unknown command {name!r} (choose from {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    command = importlib.import_module(f"anpr.cli.{name}")
    saved_argv = sys.argv
    sys.argv = [f"anpr {name}", *rest]  # what the command's parser (argparse or Hydra) names itself after
    try:
        return command.main(rest)
    except UserError as err:  # a mistake the user can fix that the command did not report itself
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        from anpr.cli.console import report_error

        report_error(str(err))
        return 2
    finally:
        sys.argv = saved_argv
