"""Runs that survive: non-finite losses are skipped and counted, then stop with advice."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from helpers import TINY_CONTRACT, TINY_NET, random_plate_texts, tiny_datamodule, write_rec_dataset

from anpr.train.module import PlateRecognitionModule


class NaNOnBatches(PlateRecognitionModule):
    """Injects a NaN loss on chosen training batches."""

    def __init__(self, nan_batches: set[int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.nan_batches = nan_batches

    def compute_loss(self, logits, batch, training=False):
        loss = super().compute_loss(logits, batch, training)
        if self.training and self.trainer.fit_loop.epoch_loop.batch_idx in self.nan_batches:
            return loss * float("nan")
        return loss


def fit(tmp_path: Path, nan_batches: set[int], steps: int = 8) -> PlateRecognitionModule:
    images_dir, labels_file = write_rec_dataset(tmp_path, random_plate_texts(40))
    datamodule = tiny_datamodule(images_dir, labels_file, batch_size=4)
    module = NaNOnBatches(nan_batches, model=TINY_NET, contract=TINY_CONTRACT, max_consecutive_nonfinite=3)
    trainer = L.Trainer(
        max_steps=steps,
        limit_val_batches=0,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=datamodule)
    return module


@pytest.mark.slow
def test_a_nonfinite_loss_is_skipped_and_counted(tmp_path: Path) -> None:
    module = fit(tmp_path, nan_batches={2})
    assert module.nonfinite_batches == 1
    assert module.trainer.global_step == 8  # training went on to the end
    assert all(torch.isfinite(p).all() for p in module.parameters())  # no NaN reached the weights


def test_repeated_nonfinite_losses_stop_with_advice(tmp_path: Path) -> None:
    with pytest.raises(FloatingPointError, match="learning rate.*anpr check"):
        fit(tmp_path, nan_batches={1, 2, 3, 4})
