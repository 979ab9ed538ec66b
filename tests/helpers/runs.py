"""Running the project's scripts and composing its training config from tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from anpr.config.compose import compose_train as _compose
from helpers.models import TINY_MODEL

ROOT = Path(__file__).resolve().parents[2]


def compose_train(overrides: list[str]):
    """``conf/train.yaml`` with ``overrides``, hydra settings included (as a run sees them)."""
    return _compose(overrides, return_hydra_config=True)


def run_script(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def train_args(images_dir: Path, labels_file: Path, run_dir: Path, *extra: str) -> list[str]:
    """scripts/train.py arguments for a tiny CPU run on a rec dataset, logging every step."""
    return [
        str(ROOT / "scripts" / "train.py"),
        "data=rec",
        f"data.images_dir={images_dir}",
        f"data.labels_file={labels_file}",
        "hardware=cpu",
        "preset=speed",
        "data.num_workers=0",
        "trainer.log_every_n_steps=1",
        f"hydra.run.dir={run_dir}",
        "callbacks.progress_bar=null",
        "callbacks.early_stopping=null",
        *TINY_MODEL,
        *extra,
    ]
