"""A run stopped and resumed trains exactly as one that never stopped: the same optimizer steps,
the same learning rates, the same plates in the same order."""

from __future__ import annotations

import lightning as L
import pytest
from helpers import write_rec_dataset
from helpers.models import TINY_CONTRACT, quiet_trainer, stop_after_save, tiny_datamodule, tiny_module
from helpers.plates import random_plate_texts

from anpr.data.sampling import ResumableShuffle


def test_each_epoch_has_its_own_order_and_a_resumed_pass_continues_it():
    sampler = ResumableShuffle(10, seed=3)
    first, second = sampler.order(0), sampler.order(1)
    assert sorted(first) == list(range(10)) and first != second
    assert ResumableShuffle(10, seed=3).order(1) == second  # a function of (seed, epoch) alone
    sampler.set_epoch(1)
    sampler.resume_at(4)
    assert list(sampler) == second[4:] and list(sampler) == second  # the skip applies to one pass only
    assert len(sampler) == 10


class Recorder(L.Callback):
    """Every training step's global step, plates and learning rate."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        self.rows.append((trainer.global_step, tuple(batch["texts"]), lr))


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 1])
@pytest.mark.parametrize("stop_at", [7, 10])  # in the middle of epoch 1, and at its end
def test_a_resumed_run_trains_like_one_that_never_stopped(tmp_path, workers, stop_at):
    images_dir, labels_file = write_rec_dataset(tmp_path / "data", random_plate_texts(24, seed=1))

    def fit(recorder: Recorder, ckpt_path=None, stop=()) -> None:
        L.seed_everything(0)
        module = tiny_module(TINY_CONTRACT)
        data = tiny_datamodule(
            images_dir, labels_file, TINY_CONTRACT, batch_size=4, val_fraction=0.25, num_workers=workers
        )
        trainer = quiet_trainer(
            tmp_path, [recorder, *stop], max_epochs=3, enable_checkpointing=False, limit_val_batches=0
        )
        try:
            trainer.fit(module, datamodule=data, ckpt_path=ckpt_path)
        except InterruptedError:
            pass

    whole, before, after = Recorder(), Recorder(), Recorder()
    fit(whole)
    fit(before, stop=[stop_after_save(stop_at, tmp_path / "stop.ckpt")])
    fit(after, tmp_path / "stop.ckpt")
    assert len(whole.rows) == 15 and len(before.rows) == stop_at
    assert before.rows + after.rows == whole.rows


def test_any_seed_works_even_an_unseeded_runs_64_bit_one():
    sampler = ResumableShuffle(5, seed=2**64 - 1)  # torch.initial_seed() of a run that set no seed
    assert sorted(sampler.order(3)) == list(range(5))
