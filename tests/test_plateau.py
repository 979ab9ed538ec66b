"""train/plateau_exit_step: the first step at which greedy reads of recent batches pass 1%."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from anpr.charset import Charset
from anpr.train.plateau import METRIC, PlateauExit

CHARSET = Charset("AB12")


def logits_reading(texts: list[str], time_steps: int = 8) -> torch.Tensor:
    """Logits whose greedy CTC read is each text (blank between characters); "" reads nothing."""
    logits = torch.full((len(texts), time_steps, CHARSET.num_classes), -10.0)
    logits[:, :, 0] = 10.0
    for b, text in enumerate(texts):
        for i, index in enumerate(CHARSET.encode(text)):
            logits[b, 2 * i, 0], logits[b, 2 * i, index] = -10.0, 10.0
    return logits


class FakeModule:
    def __init__(self) -> None:
        self.charset = CHARSET
        self.logged: dict[str, float] = {}

    def log(self, name: str, value: float, **kwargs) -> None:
        self.logged[name] = value


def train(callback: PlateauExit, reads_per_step: list[int], batch: int = 10):
    """Feed batches of which the first ``reads_per_step[i]`` plates are read right at step i."""
    trainer = SimpleNamespace(global_step=0, is_global_zero=True, should_stop=False)
    module = FakeModule()
    texts = ["AB12"] * batch
    for step, right in enumerate(reads_per_step, start=1):
        trainer.global_step = step
        preds = texts[:right] + [""] * (batch - right)
        callback.on_train_batch_end(trainer, module, {"logits": logits_reading(preds)}, {"texts": texts}, step)
        if trainer.should_stop:
            break
    return trainer, module


def test_the_exit_is_the_first_step_whose_window_reads_one_percent() -> None:
    callback = PlateauExit(window=5, threshold=0.1)
    trainer, module = train(callback, [0] * 20 + [1, 1, 1, 2, 3, 5, 8, 10])
    # Windows of 5 batches of 10 plates: 10% is 5 plates; steps 20-24 read 0+1+1+1+2 = 5, 19-23 only 3.
    assert callback.exit_step == 24
    assert module.logged[METRIC] == 24.0
    assert not trainer.should_stop


def test_on_the_plateau_nothing_is_logged_and_give_up_stops_training() -> None:
    callback = PlateauExit(window=3, threshold=0.01, stop_when_found=True, give_up_after=12)
    trainer, module = train(callback, [0] * 30)
    assert callback.exit_step is None and METRIC not in module.logged
    assert trainer.should_stop and trainer.global_step == 12


def test_stop_when_found_ends_training_at_the_exit_and_the_state_survives_a_resume() -> None:
    callback = PlateauExit(window=2, threshold=0.5, stop_when_found=True)
    trainer, _ = train(callback, [0, 0, 0, 10, 10, 10, 10])
    assert callback.exit_step == 4 and trainer.should_stop and trainer.global_step == 4  # 0+10 of 20
    resumed = PlateauExit()
    resumed.load_state_dict(callback.state_dict())
    assert resumed.exit_step == 4


def test_bad_window_or_threshold_is_refused() -> None:
    with pytest.raises(ValueError):
        PlateauExit(window=0)
    with pytest.raises(ValueError):
        PlateauExit(threshold=0)


def test_alignment_guide_fades_linearly_to_nothing() -> None:
    from anpr.train.losses import alignment_weight

    assert [alignment_weight(step, 2.0, 100) for step in (0, 50, 100, 150)] == [2.0, 1.0, 0.0, 0.0]
    assert alignment_weight(0, 2.0, 0) == alignment_weight(0, 0.0, 100) == 0.0
