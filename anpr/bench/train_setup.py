"""What every training-benchmark timer starts from: the config, module and optimizer as training makes them.

The point of the benchmark is to time training as it really runs, so the config is composed
from ``conf/train.yaml`` and the module built by :func:`anpr.train.run.build_module`, never
re-created by hand.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from anpr.bench.train_settings import TrainSettings
from anpr.config.compose import compose_train, run_settings


def compose_train_config(model: str, settings: TrainSettings, dataset_dir: Path, work_dir: Path):
    """``conf/train.yaml`` for ``model`` on the CPU profile, reading the rec dataset in ``dataset_dir``."""
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
    return compose_train(overrides)


def training_data(cfg):
    """The data module exactly as training builds it, bound to the config's plate contract."""
    from anpr.config.contract import contract_from_config
    from anpr.train.run import build_data

    return build_data(cfg, contract_from_config(cfg))


def training_module(cfg, datamodule, **performance):
    """The LightningModule exactly as training builds it (``performance`` overrides those options)."""
    import torch
    from omegaconf import OmegaConf

    from anpr.train.run import build_module

    if performance:
        cfg = OmegaConf.merge(cfg, {"performance": performance})
    torch.manual_seed(int(cfg.seed))
    return build_module(run_settings(cfg), datamodule.contract)


def module_optimizers(module, total_steps: int):
    """The module's own AdamW + OneCycleLR, outside a Trainer (only the step count is needed)."""
    module._trainer = SimpleNamespace(estimated_stepping_batches=total_steps)
    try:
        config = module.configure_optimizers()
    finally:
        module._trainer = None
    return config["optimizer"], config["lr_scheduler"]["scheduler"]


def input_size(datamodule) -> str:
    """The model's input as the tables print it, ``HxW``."""
    return f"{datamodule.preprocessor.image_height}x{datamodule.preprocessor.image_width}"


@contextlib.contextmanager
def quiet_fit() -> Iterator[None]:
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
