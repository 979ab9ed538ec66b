"""The exponential moving average of the weights: the rule, what checkpoints hold, and that a
stopped and resumed run averages exactly as one that never stopped."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from helpers import write_rec_dataset
from helpers.models import TINY_CONTRACT, quiet_trainer, stop_after_save, tiny_datamodule, tiny_module
from helpers.plates import random_plate_texts

from anpr.train.averaging import ExponentialAverage, FollowThenAverage


def test_the_average_follows_the_live_weights_until_start_step_then_moves_slowly():
    rule = FollowThenAverage(decay=0.9, start_step=3)
    average, current = [torch.zeros(2)], [torch.tensor([1.0, 2.0])]
    rule(average, current, torch.tensor(2))
    assert torch.equal(average[0], current[0])
    average = [torch.zeros(2)]
    rule(average, current, torch.tensor(3))
    assert torch.allclose(average[0], torch.tensor([0.1, 0.2]))
    counts = [torch.tensor(5)]
    rule(counts, [torch.tensor(9)], torch.tensor(3))
    assert int(counts[0]) == 9  # integer buffers are copied


def test_a_decay_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="decay"):
        ExponentialAverage(decay=1.0)


@pytest.mark.slow
def test_checkpoints_hold_the_average_and_a_resumed_run_ends_with_the_same_one(tmp_path):
    images_dir, labels_file = write_rec_dataset(tmp_path / "data", random_plate_texts(24, seed=1))

    def fit(extra=(), ckpt_path=None):
        L.seed_everything(0)
        module = tiny_module(TINY_CONTRACT)
        data = tiny_datamodule(images_dir, labels_file, TINY_CONTRACT, batch_size=4, val_fraction=0.25)
        average = ExponentialAverage(decay=0.8, start_step=4)
        trainer = quiet_trainer(
            tmp_path, [average, *extra], max_epochs=3, enable_checkpointing=False, limit_val_batches=0
        )
        try:
            trainer.fit(module, datamodule=data, ckpt_path=ckpt_path)
        except InterruptedError:
            pass
        return module

    whole = fit()
    stop = tmp_path / "stop.ckpt"
    fit([stop_after_save(8, stop)])
    saved = torch.load(stop, map_location="cpu", weights_only=False)
    live, averaged = saved["current_model_state"], saved["state_dict"]
    assert live.keys() == averaged.keys()
    assert any(not torch.equal(live[k], averaged[k]) for k in live)  # the average, not the live weights
    resumed = fit(ckpt_path=stop)
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
