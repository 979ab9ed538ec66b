"""Part ``loop`` of the training benchmark: the Lightning Trainer against a plain PyTorch loop.

Both train the same model from the same weights on the same ready-made batches, so whatever
differs between their step rates is the Trainer's own overhead (callbacks, logging, progress bar).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from anpr.bench.train_report import LoopRow
from anpr.bench.train_settings import BARE, BARE_NO_LOG, NO_LOGGER, NO_PROGRESS_BAR, PLAIN, TrainSettings
from anpr.bench.train_setup import input_size, module_optimizers, quiet_fit, training_module


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
    optimizer, scheduler = module_optimizers(module, len(batches))
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

    from anpr.config.compose import run_settings
    from anpr.train.hparams import HparamsSummary, flatten_for_hparams
    from anpr.train.run import instantiate_group

    clock = _make_step_clock()
    common = dict(max_epochs=1, max_steps=-1, limit_train_batches=None, enable_checkpointing=False)
    if variant in (BARE, BARE_NO_LOG):
        trainer = instantiate(
            cfg.trainer,
            callbacks=[clock],
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            limit_val_batches=0,
            **common,
        )
        val_loader = None
    else:

        def wanted(entry) -> bool:
            target = str(entry.get("_target_", ""))
            if target.endswith("ModelCheckpoint"):
                return False  # no checkpoint files
            if variant == NO_PROGRESS_BAR and target.endswith("ProgressBar"):
                return False
            return not (variant == NO_LOGGER and target.endswith("LearningRateMonitor"))  # needs a logger

        callbacks = [
            instantiate(entry)
            for entry in (cfg.callbacks or {}).values()
            if entry is not None and "_target_" in entry and wanted(entry)
        ]
        callbacks.append(HparamsSummary(flatten_for_hparams(run_settings(cfg))))
        loggers = [] if variant == NO_LOGGER else instantiate_group(cfg.get("logger"))
        trainer = instantiate(
            cfg.trainer,
            callbacks=[clock, *callbacks],
            logger=loggers or False,
            enable_progress_bar=variant != NO_PROGRESS_BAR,
            limit_val_batches=None,
            **common,
        )
        val_loader = _batch_loader([val_batch]) if val_batch is not None else None
    if variant == BARE_NO_LOG:
        module.log = _no_log  # instance attribute: this module only
    called = time.perf_counter()
    trainer.fit(module, train_dataloaders=_batch_loader(batches), val_dataloaders=val_loader)
    return clock.starts, called


def _no_log(*args: Any, **kwargs: Any) -> None:
    return None


def time_loops(
    cfg, datamodule, name: str, settings: TrainSettings, variants: Sequence[str], status: Callable[[str], Any]
) -> list[LoopRow]:
    """Interleaved rounds of every loop variant on the same batches; median rate per variant."""
    batches, val_batch = loop_batches(datamodule, settings)
    clip = cfg.trainer.get("gradient_clip_val")
    rates: dict[str, list[float]] = {v: [] for v in variants}
    startups: dict[str, list[float]] = {v: [] for v in variants}
    for round_index in range(settings.rounds):
        order = list(variants) if round_index % 2 == 0 else list(reversed(variants))
        for variant in order:
            status(f"{name}: {variant} (round {round_index + 1}/{settings.rounds})")
            module = training_module(cfg, datamodule)
            with quiet_fit():
                if variant == PLAIN:
                    starts, called = run_plain_loop(module, batches, clip)
                else:
                    starts, called = run_lightning(cfg, module, batches, val_batch, variant)
            rates[variant].append(_rate(starts, settings.warmup, settings.steps, settings.batch))
            startups[variant].append(starts[0] - called)
            del module
    size = input_size(datamodule)
    return [
        LoopRow(
            name, size, settings.batch, v, statistics.median(rates[v]), statistics.median(startups[v]), tuple(rates[v])
        )
        for v in variants
    ]


def loop_batches(datamodule, settings: TrainSettings) -> tuple[list[dict], dict]:
    """``warmup + steps + 1`` training batches (a few distinct augmented ones, cycled) and one
    validation batch, made once so every loop trains on exactly the same tensors."""
    import torch
    from torch.utils.data import DataLoader

    from anpr.data.dataset import collate_plates

    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(
        datamodule.train_set,
        batch_size=settings.batch,
        shuffle=True,
        drop_last=True,
        collate_fn=collate_plates,
        generator=generator,
    )
    distinct = []
    for batch in loader:
        distinct.append(batch)
        if len(distinct) >= settings.distinct_batches:
            break
    if not distinct:
        raise ValueError(
            f"{len(datamodule.train_set)} training plates make no batch of {settings.batch}: "
            "write more plates (--plates)"
        )
    total = settings.warmup + settings.steps + 1
    val_batch = next(iter(DataLoader(datamodule.val_set, batch_size=settings.batch, collate_fn=collate_plates)))
    return [distinct[i % len(distinct)] for i in range(total)], val_batch
