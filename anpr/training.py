"""Run one training job from a composed config: build everything, fit, report."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from anpr.config import to_plain
from anpr.module import PlateRecognitionModule

log = logging.getLogger(__name__)


def build_module(cfg: DictConfig, datamodule: Any) -> PlateRecognitionModule:
    return PlateRecognitionModule(
        model=to_plain(cfg.model),
        charset=cfg.charset,
        preprocessing=datamodule.preprocessor.metadata(),
        optimizer=to_plain(cfg.optimizer),
        scheduler=to_plain(cfg.scheduler),
        max_consecutive_nonfinite=cfg.get("max_consecutive_nonfinite", 5),
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
        raise FileNotFoundError(f"checkpoint to resume from not found: {path}{hint}")
    return str(path)


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit a model as ``cfg`` describes; returns the final metrics plus the best ones."""
    L.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    datamodule = instantiate(cfg.data)
    module = build_module(cfg, datamodule)
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=instantiate_group(cfg.get("callbacks")), logger=instantiate_group(cfg.get("logger"))
    )
    for logger in trainer.loggers:
        logger.log_hyperparams(flatten_for_hparams(cfg))
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), output_dir)
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)

    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    for callback in trainer.checkpoint_callbacks:
        if callback.monitor and callback.best_model_score is not None:
            metrics[f"best/{callback.monitor}"] = float(callback.best_model_score)
            metrics[f"best/{callback.monitor}/path"] = callback.best_model_path
    if trainer.is_global_zero:
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        log.info("Run folder: %s", output_dir)
    return metrics


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
