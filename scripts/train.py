"""Train a plate reader: `python scripts/train.py preset=accuracy hardware=gpu12gb` (also `anpr train`).

See anpr/cli/train.py. The configs are this checkout's conf/, found next to this script as
before, whichever copy of the package is installed.
"""

from pathlib import Path

from anpr.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main(conf_dir=Path(__file__).resolve().parents[1] / "conf"))
