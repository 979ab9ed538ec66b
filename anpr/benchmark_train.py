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
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from anpr.bench.system import load_note, system_info
from anpr.config import CONF_DIR

PARTS = ("loop", "model", "data")

PLAIN = "plain PyTorch loop"
AS_TRAINED = "Lightning, as in training"
NO_PROGRESS_BAR = "Lightning, as in training minus progress bar"
NO_LOGGER = "Lightning, as in training minus logger + LR monitor"
BARE = "Lightning, bare Trainer"
BARE_NO_LOG = "Lightning, bare Trainer, self.log a no-op"
LOOP_VARIANTS = (PLAIN, AS_TRAINED, BARE)
ABLATIONS = (NO_PROGRESS_BAR, NO_LOGGER, BARE_NO_LOG)

FILES_NO_AUG = "files: decode + resize"
FILES_AUG = "files: decode + resize + augmentation"
CACHE_AUG = "in-memory cache + augmentation"
CACHE_NO_AUG = "in-memory cache, no augmentation"
# What the loader workers do with augmentation=seed_on_device: the CACHE_NO_AUG measurement.
CACHE_DEVICE_AUG = "in-memory cache, augmentation on the GPU (`seed_on_device`)"
PIPELINES = (FILES_NO_AUG, FILES_AUG, CACHE_AUG, CACHE_NO_AUG)
DEVICE_AUG_SOURCE = {CACHE_DEVICE_AUG: CACHE_NO_AUG}

# An RTX 3060-class card: about 25 TFLOPS dense fp16 tensor-core peak with fp32 accumulation
# (what autocast uses), 51 with fp16 accumulation; 13 TFLOPS effective is about half of the
# former, a quarter of the latter. Small convolutions and a BiLSTM rarely do better, so the
# estimate errs towards a fast GPU, that is towards asking more of the loader.
DEFAULT_GPU_TFLOPS = 13.0
GPU12GB_WORKERS = 8  # conf/hardware/gpu12gb.yaml data.num_workers


@dataclass
class TrainSettings:
    batch: int = 64  # images per step for the loops, the model and the loader
    warmup: int = 2  # steps per run (loops) or per variant (model alone) left out of the timing
    steps: int = 10  # timed steps per loop run: a multiple of log_every_n_steps (10) holds its logging
    model_steps: int = 5  # timed steps per variant and round, model alone
    rounds: int = 2  # interleaved rounds, order reversed every other round
    plates: int = 1024  # synthetic plates written for the data pipeline
    data_batches: int = 8  # timed batches per loader measurement
    stage_plates: int = 256  # plates for the per-stage cost breakdown of the pipeline
    workers: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))
    threads: int | None = None  # torch intra-op threads for the model (None: torch's default)
    parts: Sequence[str] = PARTS
    ablations: bool = False  # also time Lightning minus one feature at a time
    compile: bool = False  # also time torch.compile'd variants (slow to compile)
    augmentation: str = "seed"  # conf/augmentation/<name>.yaml
    gpu_tflops: float = DEFAULT_GPU_TFLOPS
    gpu_workers: int = GPU12GB_WORKERS
    distinct_batches: int = 8  # the loops cycle through this many augmented batches
    # Processes rendering the synthetic plates (the smoke run renders a few in-process).
    render_workers: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))

    @classmethod
    def smoke(cls, threads: int | None = None) -> TrainSettings:
        """Tiny sizes and few steps: checks the machinery in seconds, measures nothing."""
        return cls(batch=4, warmup=1, steps=2, model_steps=2, rounds=1, plates=24, data_batches=2,
                   stage_plates=8, workers=1, threads=threads, distinct_batches=2, render_workers=1)


@dataclass
class LoopRow:
    model: str
    input_size: str
    batch: int
    loop: str
    images_per_s: float
    startup_s: float
    per_round: Sequence[float] = ()


@dataclass
class ModelRow:
    model: str
    input_size: str
    batch: int
    channels_last: bool
    bf16: bool
    compiled: bool
    images_per_s: float


@dataclass
class DataRow:
    model: str
    input_size: str
    batch: int
    pipeline: str
    workers: int
    images_per_s: float

    @property
    def per_worker(self) -> float:
        return self.images_per_s / max(1, self.workers)


@dataclass
class StageCost:
    model: str
    stage: str
    us_when_applied: float  # microseconds per plate when the stage runs
    probability: float = 1.0  # how often it runs (an augmentation's p)

    @property
    def expected_us(self) -> float:
        return self.us_when_applied * self.probability


@dataclass
class ModelCost:
    model: str
    input_size: str
    parameters: int
    forward_gflops: float


@dataclass
class TrainResult:
    settings: TrainSettings
    system: dict[str, Any]
    costs: list[ModelCost] = field(default_factory=list)
    loops: list[LoopRow] = field(default_factory=list)
    models: list[ModelRow] = field(default_factory=list)
    data: list[DataRow] = field(default_factory=list)
    stages: list[StageCost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        s, sysinfo = self.settings, self.system
        lines = [
            "## Training benchmark (`scripts/benchmark.py train`)",
            "",
            f"- CPU: {sysinfo['cpu']}; {sysinfo['logical_cpus']} logical CPUs; torch CPU capability "
            f"{sysinfo['cpu_capability']}; bf16: {sysinfo['bf16']}",
            f"- **threads: {s.threads or sysinfo['torch_threads']}** (torch intra-op, for the loops and the "
            "model); the data pipeline: 1 thread per worker, the 0-worker rows on 1 thread too",
            *load_note(sysinfo.get("load_average"), sysinfo.get("logical_cpus")),
            f"- torch {sysinfo['torch']}, lightning {sysinfo['lightning']}, albumentations "
            f"{sysinfo['albumentations']}, OpenCV {sysinfo['opencv']}, NumPy {sysinfo['numpy']}, "
            f"Python {sysinfo['python']}",
            f"- **batch {s.batch}** everywhere; loops: {s.warmup} warm-up + {s.steps} timed steps per run, "
            f"{s.rounds} interleaved round(s); model alone: median of {s.model_steps * s.rounds} steps after "
            f"{s.warmup} warm-up; data: {s.data_batches} timed batches per measurement, {s.rounds} round(s), "
            f"`{s.augmentation}` augmentation, {s.plates} synthetic plates",
            *[f"- {note}" for note in self.notes],
        ]
        if self.loops:
            lines += self._loop_table()
        if self.models:
            lines += self._model_table()
        if self.data:
            lines += self._data_table()
        if self.stages:
            lines += self._stage_table()
        if self.data or self.models:
            lines += self._ratio_tables()
        return "\n".join(lines) + "\n"

    def _loop_table(self) -> list[str]:
        out = _section(
            "### Lightning Trainer vs a plain PyTorch loop",
            "Same model and initial weights, same batches, AdamW + OneCycleLR over the same steps, gradient "
            "clipping at norm 1.0, fp32. *As in training*: `conf/trainer/default.yaml` (log every 10 steps), "
            "the callbacks of `conf/callbacks/default.yaml` minus the checkpoint writers (RichProgressBar, "
            "LearningRateMonitor, EarlyStopping, ValidationSummary, PredictionGrid), the TensorBoard logger, "
            "the sanity check and one validation batch at the epoch's end (not in the timed steps). "
            "*Bare*: no callbacks, logger, progress bar, model summary or validation; the module's "
            "`self.log` calls still run. Start-up: from `fit()` (or the loop's start) to the first step.",
            "| model | input | batch | loop | images/s | vs plain loop | start-up (s) | images/s per round |",
            "|---|---|---:|---|---:|---:|---:|---|",
        )
        plain = {r.model: r for r in self.loops if r.loop == PLAIN}
        for r in self.loops:
            base = plain.get(r.model)
            ratio = f"{r.images_per_s / base.images_per_s:.3f}x" if base else "-"
            rounds = ", ".join(f"{rate:.1f}" for rate in r.per_round)
            out.append(f"| {r.model} | {r.input_size} | {r.batch} | {r.loop} | {r.images_per_s:.1f} | "
                       f"{ratio} | {r.startup_s:.2f} | {rounds} |")
        spread = max((max(r.per_round) - min(r.per_round)) / r.images_per_s for r in self.loops if r.per_round)
        if spread > 0.1:
            out += ["", f"**Rounds differ by up to {spread:.0%}**: other work competed for the CPU; "
                        "compare with care, or rerun on a quiet machine."]
        for model, base in plain.items():
            trained = next((r for r in self.loops if r.model == model and r.loop == AS_TRAINED), None)
            if trained:
                ratio = trained.images_per_s / base.images_per_s
                verdict = "meets" if ratio >= 0.95 else "misses"
                out.append("")
                out.append(f"{model}: Lightning as in training runs at {ratio:.3f}x the plain loop's rate "
                           f"({verdict} the 0.95x target).")
        return out

    def _model_table(self) -> list[str]:
        out = _section(
            "### The model alone: a training step on random tensors",
            "Forward, CTC loss (float32), backward and AdamW step; no data loading. bf16: "
            "`torch.autocast('cpu', dtype=torch.bfloat16)` around forward and loss.",
            "| model | input | batch | channels_last | bf16 autocast | torch.compile | images/s | vs fp32 NCHW |",
            "|---|---|---:|---|---|---|---:|---:|",
        )
        base = {r.model: r for r in self.models if not (r.channels_last or r.bf16 or r.compiled)}
        for r in self.models:
            b = base.get(r.model)
            ratio = f"{r.images_per_s / b.images_per_s:.2f}x" if b else "-"
            out.append(f"| {r.model} | {r.input_size} | {r.batch} | {_yn(r.channels_last)} | {_yn(r.bf16)} | "
                       f"{_yn(r.compiled)} | {r.images_per_s:.1f} | {ratio} |")
        return out

    def _data_table(self) -> list[str]:
        out = _section(
            f"### The data pipeline alone (`{self.settings.augmentation}` augmentation)",
            "Per sample: read + decode + resize to the model's input (files) or a copy out of the in-memory "
            "cache, then augmentation and the uint8 CHW tensor (normalized on the device); then collate. "
            "0 workers: the main process on one thread, the rate of one loader worker.",
            "| model | input | batch | pipeline | workers | images/s | images/s per worker |",
            "|---|---|---:|---|---:|---:|---:|",
        )
        for r in self.data:
            out.append(f"| {r.model} | {r.input_size} | {r.batch} | {r.pipeline} | {r.workers} | "
                       f"{r.images_per_s:.0f} | {r.per_worker:.0f} |")
        return out

    def _stage_table(self) -> list[str]:
        out = _section(
            "### Where a loader worker's time goes (one thread, per plate)",
            "Each stage timed alone over the same plates. An augmentation is timed when it fires; the "
            "expected cost is that times its probability p. *Augmentation, all* is the whole Compose as "
            "configured (its overhead included).",
            "| model | stage | µs when applied | p | µs per plate |",
            "|---|---|---:|---:|---:|",
        )
        for r in self.stages:
            out.append(f"| {r.model} | {r.stage} | {r.us_when_applied:.0f} | {r.probability:g} | {r.expected_us:.0f} |")
        return out

    def _ratio_tables(self) -> list[str]:
        s = self.settings
        out: list[str] = []
        model_rate = {r.model: r.images_per_s for r in self.models
                      if not (r.channels_last or r.bf16 or r.compiled)}
        one = {(r.model, r.pipeline): r.images_per_s for r in self.data if r.workers == 0}
        many = {(r.model, r.pipeline): r for r in self.data if r.workers > 0}
        if model_rate and self.data:
            out += _section(
                "### Data pipeline vs model on this CPU",
                "Loader images/s divided by the model's training images/s (fp32, NCHW, random tensors): "
                "above 1 the loader keeps up.",
                "| model | model images/s | pipeline | loader images/s (workers) | loader / model | "
                "one worker / model |",
                "|---|---:|---|---:|---:|---:|",
            )
            for (model, pipeline), row in many.items():
                if model not in model_rate or pipeline not in (FILES_AUG, CACHE_AUG):
                    continue
                rate = model_rate[model]
                single = one.get((model, pipeline))
                out.append(f"| {model} | {rate:.1f} | {pipeline} | {row.images_per_s:.0f} ({row.workers}) | "
                           f"{row.images_per_s / rate:.2f} | "
                           f"{'-' if single is None else f'{single / rate:.2f}'} |")
        if self.costs:
            out += _section(
                f"### GPU estimate (`gpu12gb`: {s.gpu_workers} loader workers)",
                f"Assumed effective GPU throughput: {s.gpu_tflops:g} TFLOPS (`--gpu-tflops`; default: an RTX "
                "3060-class card, about half its ~25 TFLOPS dense fp16 tensor-core peak with fp32 accumulation). "
                "Training images/s = effective FLOP/s / (3 x forward FLOPs per plate): backward costs about "
                f"twice the forward. Loader x{s.gpu_workers} = the one-worker rate measured here x "
                f"{s.gpu_workers}, assuming {s.gpu_workers} free cores like this machine's; the target is "
                "3x the GPU's rate. With `augmentation=seed_on_device` the workers only copy crops out of "
                "the cache (the *in-memory cache, no augmentation* rate) and the GPU augments whole batches "
                "(kornia; see the stage table for its cost on this CPU). A network with few FLOPs per plate "
                "is more likely bound by kernel "
                "launches and the sequential LSTM than by FLOPs on a GPU: its real rate is probably lower "
                "than this estimate, which asks more of the loader, not less.",
                "| model | params (M) | forward GFLOPs/plate | est. GPU images/s | needed (3x) | pipeline | "
                f"loader x{s.gpu_workers} images/s | loader / GPU | 3x met |",
                "|---|---:|---:|---:|---:|---|---:|---:|---|",
            )
            for cost in self.costs:
                gpu = gpu_images_per_s(cost.forward_gflops, s.gpu_tflops)
                pipelines = [p for p in (FILES_AUG, CACHE_AUG, CACHE_DEVICE_AUG)
                             if (cost.model, DEVICE_AUG_SOURCE.get(p, p)) in one] or ["-"]
                for pipeline in pipelines:
                    single = one.get((cost.model, DEVICE_AUG_SOURCE.get(pipeline, pipeline)))
                    loader = "-" if single is None else f"{single * s.gpu_workers:.0f}"
                    ratio = "-" if single is None else f"{single * s.gpu_workers / gpu:.2f}"
                    met = "-" if single is None else _yn(single * s.gpu_workers >= 3 * gpu)
                    out.append(f"| {cost.model} | {cost.parameters / 1e6:.2f} | {cost.forward_gflops:.3f} | "
                               f"{gpu:.0f} | {3 * gpu:.0f} | {pipeline} | {loader} | {ratio} | {met} |")
        return out


def _section(heading: str, intro: str, header: str, align: str) -> list[str]:
    """The lines that open every table of the report: heading, what was measured, table header."""
    return ["", heading, "", intro, "", header, align]


def gpu_images_per_s(forward_gflops: float, tflops: float) -> float:
    """Training images/s a GPU sustaining ``tflops`` reaches: forward + backward = 3 x forward FLOPs."""
    return tflops * 1e12 / (3 * forward_gflops * 1e9)


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


# --------------------------------------------------------------------------------------------
# Conditions


# --------------------------------------------------------------------------------------------
# Configuration, as training composes it


def compose_train_config(model: str, settings: TrainSettings, dataset_dir: Path, work_dir: Path):
    """``conf/train.yaml`` for ``model`` on the CPU profile, reading the rec dataset in ``dataset_dir``."""
    from hydra import compose, initialize_config_dir

    from anpr.config import register_resolvers

    register_resolvers()
    overrides = [
        f"model={model}",
        "hardware=cpu",
        "data=rec",
        f"augmentation={settings.augmentation}",
        f"data.images_dir={dataset_dir / 'images'}",
        f"data.labels_file={dataset_dir / 'labels.txt'}",
        f"data.layouts_file={dataset_dir / 'layout.tsv'}",
        "data.num_workers=0",
        "data.persistent_workers=false",
        f"paths.output_dir={work_dir / 'run'}",
        f"paths.data_dir={work_dir / 'data'}",
        f"batch_size={settings.batch}",
        f"max_micro_batch={settings.batch}",
    ]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def _module(cfg, datamodule, **performance):
    """The LightningModule exactly as training builds it (``performance`` overrides those options)."""
    import torch
    from omegaconf import OmegaConf

    from anpr.training import build_module

    if performance:
        cfg = OmegaConf.merge(cfg, {"performance": performance})
    torch.manual_seed(int(cfg.seed))
    return build_module(cfg, datamodule)


def _optimizers(module, total_steps: int):
    """The module's own AdamW + OneCycleLR, outside a Trainer (only the step count is needed)."""
    module._trainer = SimpleNamespace(estimated_stepping_batches=total_steps)
    try:
        config = module.configure_optimizers()
    finally:
        module._trainer = None
    return config["optimizer"], config["lr_scheduler"]["scheduler"]


def _input_size(datamodule) -> str:
    return f"{datamodule.preprocessor.image_height}x{datamodule.preprocessor.image_width}"


# --------------------------------------------------------------------------------------------
# Part "loop": Lightning vs a plain loop


class _Batches:
    """Ready batches as a map-style dataset, for ``DataLoader(batch_size=None)``."""

    def __init__(self, batches: Sequence[dict]) -> None:
        self.batches = list(batches)

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> dict:
        return self.batches[index]


def _as_is(batch: dict) -> dict:
    return batch


def _batch_loader(batches: Sequence[dict]):
    from torch.utils.data import DataLoader

    return DataLoader(_Batches(batches), batch_size=None, shuffle=False, num_workers=0, collate_fn=_as_is)


def _make_step_clock():
    import lightning as L

    class StepClock(L.Callback):
        """Records when every training batch starts (after it was fetched, before its forward)."""

        def __init__(self) -> None:
            self.starts: list[float] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.starts.append(time.perf_counter())

    return StepClock()


def _rate(starts: Sequence[float], warmup: int, steps: int, batch: int) -> float:
    if len(starts) < warmup + steps + 1:
        raise RuntimeError(f"expected {warmup + steps + 1} steps, {len(starts)} ran")
    return steps * batch / (starts[warmup + steps] - starts[warmup])


def run_plain_loop(module, batches: Sequence[dict], clip: float | None) -> tuple[list[float], float]:
    """Train ``module`` on ``batches`` as a plain PyTorch loop does; (step start times, call time)."""
    import torch

    called = time.perf_counter()
    module.setup("fit")  # channels_last / compile, as the Trainer would
    module.train()
    optimizer, scheduler = _optimizers(module, len(batches))
    parameters = [p for p in module.parameters() if p.requires_grad]
    starts: list[float] = []
    for batch in _batch_loader(batches):
        starts.append(time.perf_counter())
        loss = module.compute_loss(module(batch["images"]), batch)
        if not bool(torch.isfinite(loss)):  # the same skip the LightningModule makes
            continue
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(parameters, clip)
        optimizer.step()
        scheduler.step()
    return starts, called


def run_lightning(
    cfg, module, batches: Sequence[dict], val_batch: dict | None, variant: str
) -> tuple[list[float], float]:
    """Fit ``module`` on ``batches`` (one epoch) under a Trainer configured per ``variant``."""
    from hydra.utils import instantiate

    from anpr.training import HparamsSummary, flatten_for_hparams, instantiate_group

    clock = _make_step_clock()
    common = dict(max_epochs=1, max_steps=-1, limit_train_batches=None, enable_checkpointing=False)
    if variant in (BARE, BARE_NO_LOG):
        trainer = instantiate(cfg.trainer, callbacks=[clock], logger=False, enable_progress_bar=False,
                              enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0, **common)
        val_loader = None
    else:
        def wanted(entry) -> bool:
            target = str(entry.get("_target_", ""))
            if target.endswith("ModelCheckpoint"):
                return False  # no checkpoint files
            if variant == NO_PROGRESS_BAR and target.endswith("ProgressBar"):
                return False
            return not (variant == NO_LOGGER and target.endswith("LearningRateMonitor"))  # needs a logger

        callbacks = [instantiate(entry) for entry in (cfg.callbacks or {}).values()
                     if entry is not None and "_target_" in entry and wanted(entry)]
        callbacks.append(HparamsSummary(flatten_for_hparams(cfg)))
        loggers = [] if variant == NO_LOGGER else instantiate_group(cfg.get("logger"))
        trainer = instantiate(cfg.trainer, callbacks=[clock, *callbacks], logger=loggers or False,
                              enable_progress_bar=variant != NO_PROGRESS_BAR, limit_val_batches=None, **common)
        val_loader = _batch_loader([val_batch]) if val_batch is not None else None
    if variant == BARE_NO_LOG:
        module.log = _no_log  # instance attribute: this module only
    called = time.perf_counter()
    trainer.fit(module, train_dataloaders=_batch_loader(batches), val_dataloaders=val_loader)
    return clock.starts, called


def _no_log(*args: Any, **kwargs: Any) -> None:
    return None


def time_loops(cfg, datamodule, name: str, settings: TrainSettings, variants: Sequence[str],
               status: Callable[[str], Any]) -> list[LoopRow]:
    """Interleaved rounds of every loop variant on the same batches; median rate per variant."""
    batches, val_batch = loop_batches(datamodule, settings)
    clip = cfg.trainer.get("gradient_clip_val")
    rates: dict[str, list[float]] = {v: [] for v in variants}
    startups: dict[str, list[float]] = {v: [] for v in variants}
    for round_index in range(settings.rounds):
        order = list(variants) if round_index % 2 == 0 else list(reversed(variants))
        for variant in order:
            status(f"{name}: {variant} (round {round_index + 1}/{settings.rounds})")
            module = _module(cfg, datamodule)
            with _quiet_fit():
                if variant == PLAIN:
                    starts, called = run_plain_loop(module, batches, clip)
                else:
                    starts, called = run_lightning(cfg, module, batches, val_batch, variant)
            rates[variant].append(_rate(starts, settings.warmup, settings.steps, settings.batch))
            startups[variant].append(starts[0] - called)
            del module
    size = _input_size(datamodule)
    return [LoopRow(name, size, settings.batch, v, statistics.median(rates[v]), statistics.median(startups[v]),
                    tuple(rates[v])) for v in variants]


def loop_batches(datamodule, settings: TrainSettings) -> tuple[list[dict], dict]:
    """``warmup + steps + 1`` training batches (a few distinct augmented ones, cycled) and one
    validation batch, made once so every loop trains on exactly the same tensors."""
    import torch
    from torch.utils.data import DataLoader

    from anpr.data.dataset import collate_plates

    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(datamodule.train_set, batch_size=settings.batch, shuffle=True, drop_last=True,
                        collate_fn=collate_plates, generator=generator)
    distinct = []
    for batch in loader:
        distinct.append(batch)
        if len(distinct) >= settings.distinct_batches:
            break
    if not distinct:
        raise ValueError(f"{len(datamodule.train_set)} training plates make no batch of {settings.batch}: "
                         "write more plates (--plates)")
    total = settings.warmup + settings.steps + 1
    val_batch = next(iter(DataLoader(datamodule.val_set, batch_size=settings.batch, collate_fn=collate_plates)))
    return [distinct[i % len(distinct)] for i in range(total)], val_batch


@contextlib.contextmanager
def _quiet_fit() -> Iterator[None]:
    """Lightning's chatter off stdout (the Markdown goes there) and its info logs and hints muted;
    the progress bar and console summaries draw on stderr instead."""
    lightning_log = logging.getLogger("lightning.pytorch")
    level = lightning_log.level
    lightning_log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            yield
    finally:
        lightning_log.setLevel(level)


# --------------------------------------------------------------------------------------------
# Part "model": the network alone on random tensors


def _random_batch(datamodule, module, batch: int) -> tuple[Any, dict]:
    import torch

    generator = torch.Generator().manual_seed(0)
    pre = datamodule.preprocessor
    images = torch.randn(batch, 3, pre.image_height, pre.image_width, generator=generator)
    steps = int(getattr(module.net, "time_steps", 0)) or 16
    length = max(1, min(10, steps // 2))
    num_classes = module.charset.num_classes
    targets = torch.randint(1, num_classes, (batch * length,), generator=generator)
    return images, {"targets": targets, "target_lengths": torch.full((batch,), length, dtype=torch.long)}


def model_variants(compile: bool) -> list[tuple[bool, bool, bool]]:
    """(channels_last, bf16, compiled) combinations to time."""
    variants = [(cl, bf16, False) for bf16 in (False, True) for cl in (False, True)]
    if compile:
        variants += [(False, False, True), (False, True, True)]
    return variants


def time_model(cfg, datamodule, name: str, settings: TrainSettings, status: Callable[[str], Any],
               notes: list[str]) -> list[ModelRow]:
    import torch

    from anpr.inference.timing import interleaved_medians

    fns: dict[tuple[bool, bool, bool], Callable[[], Any]] = {}
    for channels_last, bf16, compiled in model_variants(settings.compile):
        module = _module(cfg, datamodule, channels_last=channels_last, compile=compiled)
        module.setup("fit")
        module.train()
        optimizer, _ = _optimizers(module, 1000)
        images, batch = _random_batch(datamodule, module, settings.batch)

        def step(module=module, optimizer=optimizer, images=images, batch=batch, bf16=bf16) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = module.compute_loss(module(images), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        if compiled:
            status(f"{name}: compiling (channels_last={channels_last}, bf16={bf16})")
            try:
                started = time.perf_counter()
                step()
                notes.append(f"{name}: torch.compile's first step{' (bf16)' if bf16 else ''} took "
                             f"{time.perf_counter() - started:.0f} s")
            except Exception as err:  # a missing compiler must not cost the other figures
                notes.append(f"{name}: torch.compile failed ({type(err).__name__}: {str(err).splitlines()[0]})")
                continue
        fns[(channels_last, bf16, compiled)] = step
    status(f"{name}: timing the model alone ({len(fns)} variants)")
    medians = interleaved_medians(fns, settings.warmup, settings.model_steps * settings.rounds, settings.rounds)
    size = _input_size(datamodule)
    return [ModelRow(name, size, settings.batch, cl, bf16, compiled, settings.batch / seconds)
            for (cl, bf16, compiled), seconds in medians.items()]


def model_cost(cfg, datamodule, name: str) -> ModelCost:
    from anpr.models.complexity import count_parameters, gflops_per_plate

    module = _module(cfg, datamodule)
    pre = datamodule.preprocessor
    return ModelCost(name, _input_size(datamodule), count_parameters(module.net),
                     gflops_per_plate(module.net, pre.image_height, pre.image_width))


# --------------------------------------------------------------------------------------------
# Part "data": the input pipeline alone


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch and OpenCV on one thread, as in a loader worker (torch sets 1 there itself)."""
    import cv2
    import torch

    torch_threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        cv2.setNumThreads(cv2_threads)


def loader_rate(dataset, batch: int, workers: int, timed_batches: int, seed: int = 0) -> float:
    """Images/s a ``DataLoader`` delivers in steady state (worker start-up excluded)."""
    import torch
    from torch.utils.data import DataLoader, RandomSampler

    from anpr.data.dataset import collate_plates

    warm = workers + 1  # every worker has delivered a batch: start-up is behind us
    total = warm + timed_batches
    sampler = RandomSampler(dataset, replacement=True, num_samples=total * batch,
                            generator=torch.Generator().manual_seed(seed))
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers,
                        collate_fn=collate_plates, drop_last=True)
    start = end = 0.0
    for index, _ in enumerate(loader):
        if index == warm - 1:
            start = time.perf_counter()
        elif index == total - 1:
            end = time.perf_counter()
    return timed_batches * batch / (end - start)


def time_data(datamodule, name: str, settings: TrainSettings, status: Callable[[str], Any],
              notes: list[str]) -> tuple[list[DataRow], list[StageCost]]:
    from anpr.data.cache import CachedPlateDataset, decode_all

    train_set = datamodule.train_set
    if train_set.augment is None:
        notes.append(f"augmentation `{settings.augmentation}` has no transforms: the augmented rows are not")
    status(f"{name}: decoding {len(train_set)} plates into the in-memory cache")
    threads = os.cpu_count() or 1
    started = time.perf_counter()
    images = decode_all(train_set, threads)
    seconds = time.perf_counter() - started
    pre = datamodule.preprocessor
    per_plate = pre.image_height * pre.image_width * 3
    notes.append(
        f"{name}: in-memory cache built in {seconds:.2f} s ({len(train_set) / seconds:.0f} plates/s on "
        f"{threads} threads), {per_plate / 1e3:.0f} KB a plate: 100k plates = {per_plate * 1e5 / 1e9:.1f} GB")
    cached = CachedPlateDataset.from_dataset(train_set, images=images)
    stages = time_stages(train_set, images, name, settings.batch, settings.stage_plates)
    datasets = {FILES_NO_AUG: _without_augmentation(train_set), FILES_AUG: train_set,
                CACHE_AUG: cached, CACHE_NO_AUG: _without_augmentation(cached)}
    worker_counts = [0] + ([settings.workers] if settings.workers > 0 else [])
    jobs = [(pipeline, workers) for workers in worker_counts for pipeline in PIPELINES]
    rates: dict[tuple[str, int], list[float]] = {job: [] for job in jobs}
    for round_index in range(settings.rounds):
        status(f"{name}: timing the data pipeline (round {round_index + 1}/{settings.rounds})")
        for pipeline, workers in (jobs if round_index % 2 == 0 else list(reversed(jobs))):
            context = one_thread() if workers == 0 else contextlib.nullcontext()
            with context:
                rates[(pipeline, workers)].append(
                    loader_rate(datasets[pipeline], settings.batch, workers, settings.data_batches, round_index))
    size = _input_size(datamodule)
    rows = [DataRow(name, size, settings.batch, pipeline, workers, statistics.median(rates[(pipeline, workers)]))
            for pipeline, workers in jobs]
    return rows, stages


def time_stages(train_set, images: np.ndarray, name: str, batch: int, plates: int) -> list[StageCost]:
    """Microseconds per plate of every step of the pipeline, each timed alone on one thread."""
    import torch

    from anpr.data.dataset import collate_plates

    count = max(1, min(plates, len(train_set)))
    pre = train_set.preprocessor

    def per_plate(fn: Callable[[int], Any]) -> float:
        best = float("inf")
        for _ in range(2):  # the better of two passes: the first also warms caches
            start = time.perf_counter()
            for index in range(count):
                fn(index)
            best = min(best, time.perf_counter() - start)
        return best / count * 1e6

    with one_thread():
        raw = [train_set.load_rgb(i) for i in range(count)]
        resized = [pre.resize(image) for image in raw]
        stages = [StageCost(name, "read + decode the file", per_plate(train_set.load_rgb)),
                  StageCost(name, "resize to the model's input", per_plate(lambda i: pre.resize(raw[i]))),
                  StageCost(name, "copy out of the in-memory cache", per_plate(lambda i: images[i].copy()))]
        if train_set.augment is not None:
            for transform in getattr(train_set.augment, "compose", SimpleNamespace(transforms=[])).transforms:
                always = copy.deepcopy(transform)
                always.p = 1.0
                stages.append(StageCost(name, f"augmentation: {type(transform).__name__}",
                                        per_plate(lambda i, t=always: t(image=resized[i])["image"]),
                                        float(getattr(transform, "p", 1.0))))
            stages.append(StageCost(name, "augmentation, all (as configured)",
                                    per_plate(lambda i: train_set.augment(resized[i]))))
        stages.append(StageCost(name, "to a CHW uint8 tensor (normalized later, on the device)",
                                per_plate(lambda i: torch.from_numpy(pre.to_chw_uint8(resized[i])))))
        samples = [{"image": torch.from_numpy(pre.to_chw_uint8(image)), "target": torch.tensor(train_set.targets[i]),
                    "text": train_set.records[i].text, "index": i, "layout": ""}
                   for i, image in enumerate(resized)]
        batches = [samples[a:a + batch] for a in range(0, count, batch)]
        collate_us = per_plate(lambda i: collate_plates(batches[i // batch]) if i % batch == 0 else None)
        stages.append(StageCost(name, f"collate (batches of {batch})", collate_us))
        device_us = device_augmentation_us(batches[0], batch)
        if device_us is not None:
            stages.append(StageCost(name, f"`seed_on_device` augmentation, kornia on this CPU (batches of {batch})",
                                    device_us))
    return stages


def device_augmentation_us(samples: list[dict], batch: int, rounds: int = 5) -> float | None:
    """Microseconds per plate of the `seed_on_device` transforms run here (a GPU runs them in
    its own time, not the loader's); None where the config or kornia is missing."""
    import torch
    from omegaconf import OmegaConf

    from anpr.data.dataset import collate_plates

    config = CONF_DIR / "augmentation" / "seed_on_device.yaml"
    try:
        from anpr.data.device_augment import DeviceAugmenter

        augment = DeviceAugmenter(OmegaConf.to_container(OmegaConf.load(config).device_transforms))
    except (ImportError, OSError):
        return None
    pixels = collate_plates(samples)["images"].float() / 255.0
    with torch.no_grad():
        augment(pixels)
        started = time.perf_counter()
        for _ in range(rounds):
            augment(pixels)
    return (time.perf_counter() - started) / (rounds * len(samples)) * 1e6


def _without_augmentation(dataset):
    plain = copy.copy(dataset)
    plain.augment = None
    return plain


# --------------------------------------------------------------------------------------------


def run_train(model_configs: Sequence[str] = ("crnn_small",), settings: TrainSettings | None = None,
              on_status: Callable[[str], Any] | None = None) -> TrainResult:
    """Every part of ``settings.parts`` for every model config; see the module docstring."""
    import torch
    from hydra.utils import instantiate

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
        dataset_dir = write_dataset(work / "plates", settings.plates, seed=0,
                                    workers=settings.render_workers, progress=False)
        for name in model_configs:
            cfg = compose_train_config(name, settings, dataset_dir, work / name)
            datamodule = instantiate(cfg.data)
            with _quiet_fit():
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
        result.notes.append(f"the Lightning progress bar and summaries drew on stderr, "
                            f"{'a terminal' if tty else 'not a terminal (rich draws little there)'}")
    return result
