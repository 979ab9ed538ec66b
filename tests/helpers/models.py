"""The one tiny network tests train, its plate contract, and a tiny trained model's files."""

from __future__ import annotations

import atexit
import functools
import importlib
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from anpr.contract import PlateContract
from helpers.plates import random_plate_texts, write_rec_dataset

CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# Every CRNN argument spelled out, so the Hydra overrides below give exactly this network whatever
# conf/model's default is: 32x128 input, 32 CTC time steps, a few thousand weights.
TINY_NET: dict[str, Any] = {
    "_target_": "anpr.models.CRNN",
    "image_height": 32,
    "image_width": 128,
    "in_channels": 3,
    "stem_channels": [8, 16],
    "stem_strides": [[1, 1], [2, 2]],
    "stages": [
        {"out_channels": 16, "blocks": 1, "stride": [2, 2]},
        {"out_channels": 24, "blocks": 1, "stride": [2, 1]},
    ],
    "se_min_channels": 128,
    "se_reduction": 16,
    "neck_channels": 24,
    "pool_rows": 1,
    "hidden_size": 16,
    "lstm_layers": 1,
    "lstm_dropout": 0.0,
    "dropout": 0.0,
}
TINY_TIME_STEPS = 32


def _override_value(value: Any) -> str:
    """A Python value in Hydra's override syntax (``{key: value}`` dicts, ``[a, b]`` lists)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_override_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_override_value(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


# TINY_NET as command-line overrides of the training config (scripts/train.py, compose_train).
TINY_MODEL = [f"model.{k}={_override_value(v)}" for k, v in TINY_NET.items() if k != "_target_"]


def tiny_contract(**changes: Any) -> PlateContract:
    """TINY_NET's contract with the training config's normalization; ``changes`` replace fields."""
    contract = PlateContract(
        CHARSET,
        TINY_NET["image_height"],
        TINY_NET["image_width"],
        (0.485, 0.456, 0.406),
        (0.229, 0.224, 0.225),
        TINY_TIME_STEPS,
    )
    return replace(contract, **changes)


TINY_CONTRACT = tiny_contract()


def tiny_module(contract: PlateContract = TINY_CONTRACT, module_class: Any = None, **kwargs: Any):
    """A PlateRecognitionModule (or ``module_class``) around TINY_NET."""
    from anpr.train.module import PlateRecognitionModule

    return (module_class or PlateRecognitionModule)(model=TINY_NET, contract=contract, **kwargs)


def tiny_datamodule(images_dir: Path, labels_file: Path, contract: PlateContract = TINY_CONTRACT, **kwargs: Any):
    """A PlateDataModule over a rec dataset, for TINY_NET's input."""
    from anpr.data import PlateDataModule

    return PlateDataModule(str(images_dir), str(labels_file), contract, **kwargs)


def quiet_trainer(root: Path, callbacks: list, **kwargs: Any):
    """A Lightning Trainer on the CPU that writes and prints nothing of its own (no logger, progress
    bar or model summary), for tests that fit TINY_NET directly; ``kwargs`` go to the Trainer."""
    import lightning as L

    return L.Trainer(
        callbacks=callbacks,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        default_root_dir=str(root),
        **kwargs,
    )


def stop_after_save(step: int, path: Path):
    """A callback that saves a checkpoint to ``path`` after optimizer step ``step`` and raises
    InterruptedError: a run killed right after its last save (catch it around ``fit``)."""
    import lightning as L

    class StopAfterSave(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if trainer.global_step == step:
                trainer.save_checkpoint(path)
                raise InterruptedError("stopped")

    return StopAfterSave()


# tiny_model_files' normalization: not the default, so tests see it travel into the files.
MODEL_FILES_CONTRACT = tiny_contract(mean=(0.5, 0.45, 0.4), std=(0.25, 0.2, 0.22))


@functools.cache
def tiny_model_files() -> tuple[Path, Path, Path, Path]:
    """(checkpoint, onnx, images_dir, labels_file) of a tiny model trained one step, built once.

    One step reads every plate alike; :func:`vary_reads` makes reads differ from plate to plate.
    The checkpoint is written by a Lightning Trainer after a real optimizer step, so it holds
    everything a training checkpoint holds (optimizer, scheduler and loop state, hyperparameters).
    """
    import lightning as L

    from anpr.export.onnx_export import export_onnx
    from anpr.inference import load_checkpoint

    root = Path(tempfile.mkdtemp(prefix="anpr-tiny-model-"))
    atexit.register(shutil.rmtree, root, True)
    images_dir, labels_file = write_rec_dataset(root / "data", random_plate_texts(8, seed=3))
    L.seed_everything(0)
    module = tiny_module(MODEL_FILES_CONTRACT, scheduler={"max_lr": 1e-4})
    data = tiny_datamodule(images_dir, labels_file, MODEL_FILES_CONTRACT, batch_size=4, val_fraction=0.25)
    trainer = quiet_trainer(root, [], max_steps=1, limit_val_batches=0, enable_checkpointing=False)
    trainer.fit(module, datamodule=data)
    vary_reads(module.net, MODEL_FILES_CONTRACT)
    checkpoint = root / "tiny.ckpt"
    trainer.save_checkpoint(checkpoint)
    net, info = load_checkpoint(checkpoint)
    onnx_path = export_onnx(net, info, root / "tiny.onnx")
    return checkpoint, onnx_path, images_dir, labels_file


def vary_reads(net: Any, contract: PlateContract) -> None:
    """Set BatchNorm statistics from synthetic plates and draw a random head: an untrained
    network whose reads differ between plates, so comparing strings means something."""
    import cv2
    import numpy as np
    import torch

    from anpr.data.images import Preprocessor
    from anpr.inference.sources import sample_plates

    plates, _, _ = sample_plates(32, seed=7)
    pre = Preprocessor(contract)
    batch = torch.from_numpy(np.stack([pre(cv2.cvtColor(p, cv2.COLOR_BGR2RGB)) for p in plates]))
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batch
    torch.manual_seed(0)
    with torch.no_grad():
        net.train()(batch)
        net.classifier.weight.normal_(0.0, 1.0)
    net.eval()


def script_main(name: str):
    """``main(argv) -> exit code`` of ``anpr.cli.<name>`` (``anpr <name>``), to run a CLI
    in-process (fast: no new interpreter importing torch and Lightning again)."""
    return importlib.import_module(f"anpr.cli.{name}").main


class CountingBackend:
    """A reader's backend that counts the crops it is given (how many model calls a read costs)."""

    def __init__(self, backend) -> None:
        self.backend, self.crops = backend, 0

    def __call__(self, batch):
        self.crops += len(batch)
        return self.backend(batch)
