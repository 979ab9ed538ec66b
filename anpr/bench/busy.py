"""Benchmark mode ``busy``: training beside other CPU-bound programs, as on a laptop in use.

Each row is a short real training run (``anpr train`` in a subprocess: the demo's model and
batch, its loader workers, on a small synthetic set rendered once) while this benchmark keeps
``k`` plain CPU-bound loops running beside it, started and stopped by the benchmark itself. The
runs' plates/s come from their own time split (``metrics.json``). With ``k`` loops on ``c``
cores a fair share of the machine costs ``(c + k) / c``; the table puts the measured slowdown
next to it, with the thread governor on (the default) and off (torch's thread count throughout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anpr.bench.system import load_note, system_info
from anpr.bench.table import markdown_table

BUSY_LOOP = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


@dataclass
class BusySettings:
    competitors: Sequence[int] = (0, 1, 2)  # CPU-bound loops beside each run
    steps: int = 300  # optimizer steps per run ...
    max_seconds: int = 60  # ... or this long, whichever ends first (two stalled threads crawl)
    plates: int = 4000  # synthetic plates rendered once for every run
    preset: str = "demo"


@dataclass
class BusyRow:
    competitors: int
    governor: bool
    plates_per_s: float
    threads: str  # the thread counts the run trained on


@contextmanager
def competing_load(count: int, seconds: float) -> Iterator[list[subprocess.Popen]]:
    """``count`` CPU-bound Python loops for at most ``seconds`` (they end by themselves, too)."""
    loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=seconds)]) for _ in range(count)]
    try:
        time.sleep(0.5 if loops else 0)  # let them take their cores
        yield loops
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def training_run(settings: BusySettings, data_dir: Path, run_dir: Path, governor: bool) -> tuple[float, str]:
    """One short training run; its plates/s over the epochs it trained and the threads it used."""
    overrides = [
        f"preset={settings.preset}",
        f"data.num_samples={settings.plates}",
        f"paths.data_dir={data_dir}",
        f"hydra.run.dir={run_dir}",
        f"trainer.max_steps={settings.steps}",
        "trainer.max_time=00:00:{:02d}:{:02d}".format(*divmod(settings.max_seconds, 60)),
        "trainer.limit_val_batches=2",
        "trainer.num_sanity_val_steps=0",
        "callbacks.progress_bar=null",
        "callbacks.prediction_grid=null",
    ]
    if not governor:
        overrides.append("callbacks.cpu_threads=null")
    result = subprocess.run([sys.executable, "-m", "anpr", "train", *overrides], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"training run failed:\n{result.stderr[-2000:]}")
    split = json.loads((run_dir / "metrics.json").read_text())["time_split"]
    wall = sum(e["wall"] - e["validation"] - e["checkpointing"] for e in split["epochs"])
    plates = sum(e["plates_per_s"] * e["wall"] for e in split["epochs"])
    return plates / wall, _threads_used(run_dir)


def _threads_used(run_dir: Path) -> str:
    """The thread count the governor ended on, from the run's last checkpoint ("torch's" without it)."""
    import torch

    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    state = next((v for k, v in (checkpoint.get("callbacks") or {}).items() if k.startswith("ThreadGovernor")), None)
    return f"{state['threads']} (switched {state['switches']}x)" if state else "torch's default"


def run_busy(settings: BusySettings, on_status: Callable[[str], object] = print) -> str:
    """Every row of the table, as Markdown, with the machine it ran on."""
    system = system_info()
    cores = os.cpu_count() or 1
    rows: list[BusyRow] = []
    with tempfile.TemporaryDirectory(prefix="anpr-busy-") as tmp:
        data_dir = Path(tmp) / "data"
        for k in settings.competitors:
            for governor in (True, False):
                on_status(f"training beside {k} CPU-bound program(s), thread governor {'on' if governor else 'off'}")
                run_dir = Path(tmp) / f"run-{k}-{int(governor)}"
                with competing_load(k, seconds=600):
                    rate, threads = training_run(settings, data_dir, run_dir, governor)
                rows.append(BusyRow(k, governor, rate, threads))
    quiet = {r.governor: r.plates_per_s for r in rows if r.competitors == 0}
    table = markdown_table(
        ["CPU-bound programs beside it", "thread governor", "plates/s", "slowdown", "fair-share slowdown", "threads"],
        "rlrrrl",
        [
            (
                r.competitors,
                "on" if r.governor else "off",
                f"{r.plates_per_s:.0f}",
                f"{quiet.get(r.governor, r.plates_per_s) / r.plates_per_s:.2f}x",
                f"{(cores + r.competitors) / cores:.2f}x",
                r.threads,
            )
            for r in rows
        ],
    )
    head = [
        f"## Training on a busy machine (`anpr benchmark busy`, preset {settings.preset})",
        "",
        f"- each run: {settings.steps} optimizer steps or {settings.max_seconds} s, whichever comes first",
        "",
        f"- CPU: {system['cpu']}, {cores} logical CPUs; torch {system['torch']}, {system['torch_threads']} threads",
        *load_note(system["load_average"], cores),
        "",
    ]
    return "\n".join([*head, *table])
