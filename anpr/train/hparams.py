"""TensorBoard's HPARAMS tab: each run's knobs next to its validation metrics and best scores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger

# The metrics TensorBoard's HPARAMS tab shows next to each run's knobs (each tag's last value).
HPARAMS_METRICS = ("val/seq_acc", "val/char_acc", "val/loss", "best/val/seq_acc", "best/val/char_acc")


def best_scores(trainer: L.Trainer, with_paths: bool = False) -> dict[str, Any]:
    """``best/<monitor>`` of every checkpoint callback that has seen its metric (and its path)."""
    best: dict[str, Any] = {}
    for callback in trainer.checkpoint_callbacks:
        if callback.monitor and callback.best_model_score is not None:
            best[f"best/{callback.monitor}"] = float(callback.best_model_score)
            if with_paths:
                best[f"best/{callback.monitor}/path"] = callback.best_model_path
    return best


def flatten_for_hparams(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The knobs worth comparing across runs (from a run's plain settings), flattened to scalars
    for TensorBoard's HPARAMS tab."""
    trainer = settings.get("trainer") or {}
    wanted = {key: settings.get(key) for key in ("model", "optimizer", "scheduler", "batch_size")}
    wanted |= {key: trainer.get(key) for key in ("max_epochs", "precision")} | {"seed": settings.get("seed")}
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}/{key}" if prefix else str(key), sub)
        elif isinstance(value, (int, float, str, bool)) or value is None:
            flat[prefix] = "null" if value is None else value
        else:
            flat[prefix] = str(value)

    walk("", wanted)
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
