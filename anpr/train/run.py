"""Run one training job from a composed config: build everything, fit, report."""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from anpr.config.compose import run_settings
from anpr.config.contract import contract_from_config
from anpr.contract import PlateContract
from anpr.errors import ConfigError
from anpr.pretrained import resolve_model
from anpr.train.distributed import (
    DDP_ENV,
    ddp_relaunches_this_job,
    per_process_batching,
    release_distributed,
    unpadded_validation,
)
from anpr.train.hparams import HparamsSummary, best_scores, flatten_for_hparams
from anpr.train.initial_weights import load_initial_weights
from anpr.train.module import PlateRecognitionModule
from anpr.train.time_split import TimeSplit

log = logging.getLogger(__name__)


def build_data(cfg: DictConfig, contract: PlateContract, **overrides: Any) -> Any:
    """The configured data module, bound to the run's contract (an object, so not part of the config)."""
    return instantiate(cfg.data, _partial_=True, **overrides)(contract=contract)


def build_module(settings: Mapping[str, Any], contract: PlateContract) -> PlateRecognitionModule:
    """The LightningModule of a run's plain ``settings`` (:func:`anpr.config.compose.run_settings`).

    A run started from trained weights (``init_from``) has no alignment guide: it is past the CTC
    plateau the guide is for, and a guide that reads rows another way than the weights learnt
    (files from before rows were filled from the bottom) would fight them."""
    optional = {key: settings[key] for key in ("max_consecutive_nonfinite", "loss") if key in settings}
    return PlateRecognitionModule(
        model=settings["model"],
        contract=contract,
        optimizer=settings["optimizer"],
        scheduler=settings["scheduler"],
        device_augmentations=(settings.get("augmentation") or {}).get("device_transforms") or [],
        alignment=None if settings.get("init_from") else settings.get("alignment"),
        **optional,
        **(settings.get("performance") or {}),
    )


def instantiate_group(group: DictConfig | None) -> list:
    """Instantiate every non-null entry of a config group such as ``callbacks`` or ``logger``."""
    if not group:
        return []
    return [instantiate(entry) for entry in group.values() if entry is not None and "_target_" in entry]


def resolve_ckpt_path(ckpt_path: str | None, output_dir: str | Path) -> str | None:
    """``last`` means this run folder's ``checkpoints/last.ckpt``; anything else is a path."""
    if ckpt_path in (None, ""):
        return None
    path = Path(output_dir) / "checkpoints" / "last.ckpt" if ckpt_path == "last" else Path(ckpt_path)
    if not path.is_file():
        hint = " (pass the old run's folder as hydra.run.dir=...)" if ckpt_path == "last" else ""
        raise ConfigError(f"checkpoint to resume from not found: {path}{hint}")
    return str(path)


def refuse_finished_run(ckpt_path: str) -> None:
    """A run that early stopping ended has nothing left to resume: say so, instead of Lightning
    failing on the monitored metric that a resumed, immediately-ending fit never computes."""
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    for key, state in (checkpoint.get("callbacks") or {}).items():
        stopped = int(state.get("stopped_epoch", 0) or 0) if isinstance(state, dict) else 0
        if str(key).startswith("EarlyStopping") and stopped > 0:
            raise ConfigError(
                f"{ckpt_path}: this run already finished: early stopping ended it after epoch {stopped + 1}, "
                "so there is nothing to resume. Its best checkpoints are beside it; to train on, start a new "
                f"run from its weights with init_from={ckpt_path}"
            )


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit a model as ``cfg`` describes; returns the final metrics plus the best ones.

    Whatever happens, the loggers are closed (so a failed job's TensorBoard events are complete)
    and a DDP process group is released, so one failed job does not poison the next in a multirun.
    """
    L.seed_everything(cfg.seed, workers=True)
    loggers = instantiate_group(cfg.get("logger"))
    ddp_env = {key: os.environ.get(key) for key in DDP_ENV}
    status = "failed"
    try:
        with ddp_relaunches_this_job():
            metrics = fit(cfg, loggers)
        status = "success"
        return metrics
    finally:
        for logger in loggers:
            logger.finalize(status)
        release_distributed(ddp_env)


def fit(cfg: DictConfig, loggers: list) -> dict[str, float]:
    """Build the trainer, data and module, fit, and write ``metrics.json`` (rank zero).

    ``cfg`` is converted to plain Python once (``settings``); what Hydra instantiates (trainer,
    callbacks, data) and the DDP batching, which reads how the batch size was derived, keep it."""
    settings = run_settings(cfg)
    output_dir = Path(settings["paths"]["output_dir"])
    callbacks = [*instantiate_group(cfg.get("callbacks")), HparamsSummary(flatten_for_hparams(settings))]
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    data_overrides = {}
    batching = per_process_batching(cfg, trainer.world_size)
    if batching:  # several processes share the preset's batch
        trainer.accumulate_grad_batches = batching["accumulate_grad_batches"]
        data_overrides["batch_size"] = batching["batch_size"]
    contract = contract_from_config(settings)
    datamodule = build_data(cfg, contract, **data_overrides)
    unpadded_validation(datamodule)
    module = build_module(settings, contract)
    ckpt_path = resolve_ckpt_path(settings.get("ckpt_path"), output_dir)
    init_from = settings.get("init_from")
    if init_from:
        if ckpt_path:
            raise ConfigError(
                "init_from and ckpt_path were both given: ckpt_path resumes a run (its weights, optimizer "
                "and schedule), init_from starts a new run from a checkpoint's weights. Pick one."
            )
        load_initial_weights(module.net, init_from, contract, settings["model"])
        log.info("Starting from the weights of %s (new optimizer and schedule)", resolve_model(init_from, "checkpoint"))
    if ckpt_path:
        refuse_finished_run(ckpt_path)
    with warnings.catch_warnings():
        # Lightning cannot see that our loader resumes mid-epoch exactly (anpr.data.sampling): its
        # warning that results may be unreliable would be wrong here.
        warnings.filterwarnings("ignore", message=".*your dataloader is not resumable.*")
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)

    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    metrics.update(best_scores(trainer, with_paths=True))
    split = next((c for c in trainer.callbacks if isinstance(c, TimeSplit)), None)
    if split is not None:
        metrics["time_split"] = split.summary()
    if trainer.is_global_zero:
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        log.info("Run folder: %s", output_dir)
    return metrics
