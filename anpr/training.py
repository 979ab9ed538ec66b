"""Run one training job from a composed config: build everything, fit, report."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from omegaconf import DictConfig, OmegaConf, read_write
from torch.utils.data import DataLoader

from anpr.config import accumulation, micro_batch, to_plain
from anpr.contract import PlateContract, contract_from_config
from anpr.errors import ConfigError
from anpr.initial_weights import load_initial_weights
from anpr.module import PlateRecognitionModule
from anpr.pretrained import resolve_model

log = logging.getLogger(__name__)

# The metrics TensorBoard's HPARAMS tab shows next to each run's knobs (each tag's last value).
HPARAMS_METRICS = ("val/seq_acc", "val/char_acc", "val/loss", "best/val/seq_acc", "best/val/char_acc")

# What a validation loader keeps when it gets a distributed sampler.
LOADER_KEYS = (
    "batch_size", "num_workers", "collate_fn", "pin_memory", "timeout", "worker_init_fn",
    "multiprocessing_context", "generator", "prefetch_factor", "persistent_workers",
)

# What Lightning's DDP launcher leaves in os.environ; restored after each job of a multirun.
DDP_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


def build_data(cfg: DictConfig, contract: PlateContract, **overrides: Any) -> Any:
    """The configured data module, bound to the run's contract (an object, so not part of the config)."""
    return instantiate(cfg.data, _partial_=True, **overrides)(contract=contract)


def build_module(cfg: DictConfig, contract: PlateContract) -> PlateRecognitionModule:
    return PlateRecognitionModule(
        model=to_plain(cfg.model),
        contract=contract,
        optimizer=to_plain(cfg.optimizer),
        scheduler=to_plain(cfg.scheduler),
        max_consecutive_nonfinite=cfg.get("max_consecutive_nonfinite", 5),
        device_augmentations=to_plain(cfg.get("augmentation", {}).get("device_transforms") or []),
        loss=to_plain(cfg.get("loss")),
        alignment=to_plain(cfg.get("alignment")),
        **to_plain(cfg.get("performance", {})),
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
    """Build the trainer, data and module, fit, and write ``metrics.json`` (rank zero)."""
    output_dir = Path(cfg.paths.output_dir)
    callbacks = [*instantiate_group(cfg.get("callbacks")), HparamsSummary(flatten_for_hparams(cfg))]
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    data_overrides = {}
    batching = per_process_batching(cfg, trainer.world_size)
    if batching:  # several processes share the preset's batch
        trainer.accumulate_grad_batches = batching["accumulate_grad_batches"]
        data_overrides["batch_size"] = batching["batch_size"]
    contract = contract_from_config(cfg)
    datamodule = build_data(cfg, contract, **data_overrides)
    unpadded_validation(datamodule)
    module = build_module(cfg, contract)
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), output_dir)
    if cfg.get("init_from"):
        if ckpt_path:
            raise ConfigError(
                "init_from and ckpt_path were both given: ckpt_path resumes a run (its weights, optimizer "
                "and schedule), init_from starts a new run from a checkpoint's weights. Pick one."
            )
        load_initial_weights(module.net, cfg.init_from, contract, to_plain(cfg.model))
        log.info("Starting from the weights of %s (new optimizer and schedule)",
                 resolve_model(cfg.init_from, "checkpoint"))
    if ckpt_path:
        refuse_finished_run(ckpt_path)
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)

    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    metrics.update(best_scores(trainer, with_paths=True))
    if trainer.is_global_zero:
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        log.info("Run folder: %s", output_dir)
    return metrics


def best_scores(trainer: L.Trainer, with_paths: bool = False) -> dict[str, Any]:
    """``best/<monitor>`` of every checkpoint callback that has seen its metric (and its path)."""
    best: dict[str, Any] = {}
    for callback in trainer.checkpoint_callbacks:
        if callback.monitor and callback.best_model_score is not None:
            best[f"best/{callback.monitor}"] = float(callback.best_model_score)
            if with_paths:
                best[f"best/{callback.monitor}/path"] = callback.best_model_path
    return best


def flatten_for_hparams(cfg: DictConfig) -> dict[str, Any]:
    """The knobs worth comparing across runs, flattened to scalars for TensorBoard's HPARAMS tab."""
    wanted = {
        "model": cfg.get("model"),
        "optimizer": cfg.get("optimizer"),
        "scheduler": cfg.get("scheduler"),
        "batch_size": cfg.get("batch_size"),
        "max_epochs": cfg.trainer.get("max_epochs"),
        "precision": cfg.trainer.get("precision"),
        "seed": cfg.get("seed"),
    }
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}/{key}" if prefix else str(key), sub)
        elif isinstance(value, (int, float, str, bool)) or value is None:
            flat[prefix] = "null" if value is None else value
        else:
            flat[prefix] = str(value)

    walk("", to_plain(OmegaConf.create({k: v for k, v in wanted.items()})))
    return flat


class HparamsSummary(L.Callback):
    """Fill TensorBoard's HPARAMS tab: this run's knobs next to its validation metrics.

    Lightning writes the hparams summary only together with metric values, which it logs as
    scalars at step 0 (a false point at the start of every curve), or with a placeholder
    ``hp_metric``. Here the summary registers the metric tags without values; the tab shows each
    tag's last value in the run. When fitting ends, the best scores the checkpoint callbacks
    tracked are logged as ``best/<metric>``, the value a sweep optimizes.
    """

    def __init__(self, params: dict[str, Any], metrics: tuple[str, ...] = HPARAMS_METRICS) -> None:
        self.params, self.metrics = params, metrics

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for logger in trainer.loggers:
            logger.log_hyperparams(self.params)  # rank zero only; also hparams.yaml
            if isinstance(logger, TensorBoardLogger) and trainer.is_global_zero:
                from torch.utils.tensorboard.summary import hparams

                writer = logger.experiment._get_file_writer()
                for summary in hparams(self.params, dict.fromkeys(self.metrics, 0.0)):
                    writer.add_summary(summary)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = best_scores(trainer)
        if best:
            for logger in trainer.loggers:
                logger.log_metrics(best, step=trainer.global_step)


def per_process_batching(cfg: DictConfig, world_size: int) -> dict[str, int] | None:
    """Micro-batch and accumulation of each DDP process; None with one process.

    ``batch_size`` is the global effective batch: one optimizer step sees
    ``processes x micro-batch x accumulation`` images. Each process takes ``batch_size / processes``
    in the fewest micro-batches within ``max_micro_batch``. The learning rate is tuned for the
    effective batch and stays as it is. An explicit number given for ``data.batch_size`` or
    ``trainer.accumulate_grad_batches`` turns this off (the values are then per process).
    """
    if world_size < 2:
        return None
    derived = OmegaConf.is_interpolation(cfg.data, "batch_size") and OmegaConf.is_interpolation(
        cfg.trainer, "accumulate_grad_batches"
    )
    if not derived:
        log.info("DDP on %d processes with data.batch_size and accumulate_grad_batches as given", world_size)
        return None
    per_process = -(-int(cfg.batch_size) // world_size)
    batching = {
        "batch_size": micro_batch(per_process, cfg.max_micro_batch),
        "accumulate_grad_batches": accumulation(per_process, cfg.max_micro_batch),
    }
    log.info(
        "Global batch %d on %d processes: micro-batch %d x %d accumulation step(s) per process",
        int(cfg.batch_size), world_size, batching["batch_size"], batching["accumulate_grad_batches"],
    )
    return batching


def unpadded_validation(datamodule: L.LightningDataModule) -> None:
    """Under DDP, split the validation set across processes without duplicates.

    Lightning's DistributedSampler pads the set with repeated samples until it divides by the
    number of processes, which would count those plates twice. Lightning leaves a loader alone
    that already has a distributed sampler, so validation loaders get its unpadded one: processes
    differ by at most one sample and the synced metrics count every plate exactly once. Each
    process needs at least one validation sample.
    """
    make_loader = datamodule.val_dataloader

    def val_dataloader() -> Any:
        loader = make_loader()
        trainer = datamodule.trainer
        if trainer is None or trainer.world_size < 2 or not isinstance(loader, DataLoader):
            return loader
        if len(loader.dataset) < trainer.world_size:
            raise ValueError(
                f"{len(loader.dataset)} validation sample(s) for {trainer.world_size} processes: each needs one"
            )
        sampler = UnrepeatedDistributedSampler(
            loader.dataset, num_replicas=trainer.world_size, rank=trainer.global_rank, shuffle=False
        )
        kept = {key: getattr(loader, key) for key in LOADER_KEYS}
        return DataLoader(loader.dataset, sampler=sampler, drop_last=False, **kept)

    datamodule.val_dataloader = val_dataloader


@contextmanager
def ddp_relaunches_this_job() -> Iterator[None]:
    """Make Lightning's DDP launcher start the other ranks on this job, not on the whole sweep.

    Lightning starts ranks 1..N-1 by re-running the command line with ``hydra.run.dir`` set to
    the run's folder. In a multirun that command line is the sweep (``-m``, lists of values) and
    the run folder is not the job's, so for the length of the job the command line becomes this
    job's overrides and the run folder the job's folder.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        yield
        return
    hydra_cfg = HydraConfig.get()
    argv, run_dir = sys.argv, hydra_cfg.run.dir
    sys.argv = [argv[0], *hydra_cfg.overrides.task]
    with read_write(hydra_cfg):
        hydra_cfg.run.dir = hydra_cfg.runtime.output_dir
    try:
        yield
    finally:
        sys.argv = argv
        with read_write(hydra_cfg):
            hydra_cfg.run.dir = run_dir


def release_distributed(saved_env: dict[str, str | None]) -> None:
    """Leave no process group and no launcher variables behind for the next job in this process."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    for key, value in saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
