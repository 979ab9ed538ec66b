"""Benchmark mode ``train``: where training time goes, measured side by side on this machine.

Three parts, each per model config (``conf/model/<name>.yaml``, random weights):

``loop``
    The LightningModule under a Lightning ``Trainer`` against a plain PyTorch loop on the same
    model (same seed, same initial weights), the same batches (augmented once, up front, then
    fed to both through the same in-memory ``DataLoader``, so that data loading costs neither
    anything), the same AdamW + OneCycleLR schedule over the same number of steps, the same
    gradient clipping. The Trainer is configured as in real training: ``conf/trainer/default.yaml``
    with the ``cpu`` hardware profile, every callback of ``conf/callbacks/default.yaml`` except
    the checkpoint writers, the TensorBoard logger, the sanity check and a validation batch at
    the end of the epoch. A step is timed from one batch's start to the next batch's start, so
    everything between steps (callbacks, logging, progress bar) counts; warm-up steps and the
    fixed costs before the first step (reported apart) and after the last do not. The runs are
    interleaved in rounds, the order reversed every other round, so that a noisy neighbour
    slows every variant alike; each figure is the median over the rounds.
``model``
    The network alone: a training step (forward, CTC loss in float32, backward, AdamW step) on
    random tensors, for channels_last on/off x bf16 autocast on/off (and torch.compile with
    ``compile=True``), median step time over interleaved rounds.
``data``
    The input pipeline alone, on synthetic plates written to a temporary rec-format dataset:
    decode + resize (+ augmentation) + normalize + collate, through a ``DataLoader`` with 0
    workers (the main process on one thread: the rate of one worker) and with N workers;
    with and without the opt-in in-memory cache of decoded crops (:mod:`anpr.data.cache`).

From these it derives the ratio data-pipeline rate / model rate on this CPU, and an estimate
for a GPU: training images/s = effective FLOP/s / (3 x forward FLOPs per plate) (backward
costs about twice the forward), against the one-worker loader rate x the ``gpu12gb`` profile's
8 workers (assuming 8 free cores as fast as this one).

Here the parts are run in order; each lives in its own module (``train_loop``, ``train_model``,
``train_data``), on the config and module of ``train_setup``, and :mod:`anpr.bench.train_report`
makes the tables.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from anpr.bench.system import system_info
from anpr.bench.train_data import time_data
from anpr.bench.train_loop import time_loops
from anpr.bench.train_model import model_cost, time_model
from anpr.bench.train_report import TrainResult
from anpr.bench.train_settings import ABLATIONS, LOOP_VARIANTS, PARTS, TrainSettings
from anpr.bench.train_setup import compose_train_config, quiet_fit, training_data


def run_train(
    model_configs: Sequence[str] = ("crnn_small",),
    settings: TrainSettings | None = None,
    on_status: Callable[[str], Any] | None = None,
) -> TrainResult:
    """Every part of ``settings.parts`` for every model config; see the module docstring."""
    import torch

    from anpr.data.synth import write_dataset

    settings = settings or TrainSettings()
    unknown = set(settings.parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    if not model_configs:
        raise ValueError("name at least one model config")
    # Before our own work starts, so that the load average is other processes'.
    system = system_info(settings.threads, ("torch", "lightning", "albumentations", "opencv", "numpy"))
    status = on_status or (lambda message: None)
    if settings.threads:
        torch.set_num_threads(int(settings.threads))
    result = TrainResult(settings, system)
    variants = (*LOOP_VARIANTS, *(ABLATIONS if settings.ablations else ()))
    with tempfile.TemporaryDirectory(prefix="anpr-bench-train-") as tmp:
        work = Path(tmp)
        status(f"writing {settings.plates} synthetic plates")
        dataset_dir = write_dataset(
            work / "plates", settings.plates, seed=0, workers=settings.render_workers, progress=False
        )
        for name in model_configs:
            cfg = compose_train_config(name, settings, dataset_dir, work / name)
            datamodule = training_data(cfg)
            with quiet_fit():
                datamodule.setup("fit")
            result.costs.append(model_cost(cfg, datamodule, name))
            if "data" in settings.parts:
                rows, stages = time_data(datamodule, name, settings, status, result.notes)
                result.data += rows
                result.stages += stages
            if "model" in settings.parts:
                result.models += time_model(cfg, datamodule, name, settings, status, result.notes)
            if "loop" in settings.parts:
                result.loops += time_loops(cfg, datamodule, name, settings, variants, status)
    if "loop" in settings.parts:
        tty = sys.stderr.isatty()
        result.notes.append(
            f"the Lightning progress bar and summaries drew on stderr, "
            f"{'a terminal' if tty else 'not a terminal (rich draws little there)'}"
        )
    return result
