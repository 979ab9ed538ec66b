"""Training on several processes (DDP): per-process batching, validation without padding, and
multirun jobs that each relaunch their own ranks and leave nothing behind for the next job."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightning as L
import torch
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from omegaconf import DictConfig, OmegaConf, read_write
from torch.utils.data import DataLoader

from anpr.config.compose import accumulation, micro_batch

log = logging.getLogger(__name__)

# What a validation loader keeps when it gets a distributed sampler.
LOADER_KEYS = (
    "batch_size",
    "num_workers",
    "collate_fn",
    "pin_memory",
    "timeout",
    "worker_init_fn",
    "multiprocessing_context",
    "generator",
    "prefetch_factor",
    "persistent_workers",
)

# What Lightning's DDP launcher leaves in os.environ; restored after each job of a multirun.
DDP_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


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
        int(cfg.batch_size),
        world_size,
        batching["batch_size"],
        batching["accumulate_grad_batches"],
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
