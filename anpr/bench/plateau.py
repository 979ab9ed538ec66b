"""How many optimizer steps training spends on the CTC plateau, over seeds and variants.

Each run is ``scripts/train.py`` with the variant's overrides and a seed, stopped by
:class:`anpr.train.plateau.PlateauExit` as soon as the model reads plates (or after ``give_up_after``
steps), so the learning-rate schedule is the one a full run of that recipe plans. Validation,
checkpoints and early stopping are switched off: only the training steps are measured.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from anpr.bench.table import markdown_table
from anpr.config.compose import CONF_DIR
from anpr.train.plateau import METRIC

REPO = CONF_DIR.parent  # the checkout whose scripts/train.py runs, from its root as a user runs it

MEASURE_ONLY = (
    "callbacks.plateau_exit.stop_when_found=true",
    "trainer.limit_val_batches=0",
    "trainer.num_sanity_val_steps=0",
    "callbacks.best_sequence_accuracy=null",
    "callbacks.best_character_accuracy=null",
    "callbacks.early_stopping=null",
    "callbacks.last=null",
    "callbacks.last_by_time=null",
    "callbacks.summary=null",
    "callbacks.prediction_grid=null",
    "callbacks.progress_bar=null",
)


@dataclass
class PlateauRun:
    variant: str
    seed: int
    exit_step: int | None  # None: still on the plateau when given up
    seconds: float


def run_one(variant: str, overrides: list[str], seed: int, give_up_after: int, out_dir: Path) -> PlateauRun:
    """Train until the plateau is left; the exit step comes from the run's metrics.json."""
    run_dir = out_dir / f"{variant}-seed{seed}"
    command = [
        sys.executable,
        str(REPO / "scripts" / "train.py"),
        *MEASURE_ONLY,
        f"callbacks.plateau_exit.give_up_after={give_up_after}",
        f"seed={seed}",
        f"hydra.run.dir={run_dir}",
        *overrides,
    ]
    start = time.perf_counter()
    with open(out_dir / f"{variant}-seed{seed}.log", "w") as log_file:
        done = subprocess.run(command, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"training failed (exit {done.returncode}); see {out_dir / f'{variant}-seed{seed}.log'}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    step = metrics.get(METRIC)
    return PlateauRun(variant, seed, None if step is None else int(step), seconds)


def table(runs: list[PlateauRun], give_up_after: int) -> str:
    """Markdown: per variant the exit step of each seed, their median and the wall time."""
    rows = []
    for variant in dict.fromkeys(r.variant for r in runs):
        mine = [r for r in runs if r.variant == variant]
        steps = [r.exit_step if r.exit_step is not None else give_up_after for r in mine]
        shown = ", ".join(str(r.exit_step) if r.exit_step is not None else f">{give_up_after}" for r in mine)
        median = statistics.median(steps)
        rows.append((variant, shown, f"{median:.0f}", f"{statistics.mean(r.seconds for r in mine):.0f}"))
    return "\n".join(markdown_table(("variant", "exit step per seed", "median", "mean s per run"), "llll", rows))
