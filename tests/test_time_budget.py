"""A run capped by max_time plans its schedule for the epochs that fit, so it anneals in time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.callbacks import Timer

from anpr.train.time_budget import FitScheduleToTime, epochs_that_fit, rescale_one_cycle


def one_cycle(total_steps: int) -> torch.optim.lr_scheduler.OneCycleLR:
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=3e-3, total_steps=total_steps, pct_start=0.1, div_factor=10.0, final_div_factor=100.0
    )


def learning_rates(scheduler, steps: int) -> list[float]:
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return rates


def test_a_shortened_schedule_is_the_schedule_planned_for_that_length() -> None:
    planned_long = one_cycle(1000)
    before = learning_rates(planned_long, 50)  # some steps under the long plan
    rescale_one_cycle(planned_long, 400)
    after = learning_rates(planned_long, 350)
    reference = learning_rates(one_cycle(400), 400)
    # From the next step on, exactly the schedule a 400-step plan has there, annealed to its end
    # (the first rate was computed before the change).
    assert after[1:] == pytest.approx(reference[51:], rel=1e-6)
    assert before == pytest.approx(learning_rates(one_cycle(1000), 50), rel=1e-9) and reference[-1] < 1e-5


def test_epochs_that_fit_keep_a_margin() -> None:
    assert epochs_that_fit(1, 100.0, 650.0, margin=0.04) == 7  # 1 done + floor(624 / 100)
    assert epochs_that_fit(2, 300.0, 100.0, margin=0.0) == 2


class FakeTimer(Timer):
    def __init__(self, elapsed: float, remaining: float) -> None:
        super().__init__(duration={"seconds": elapsed + remaining})
        self.elapsed, self.remaining = elapsed, remaining

    def time_elapsed(self, stage="train") -> float:
        return self.elapsed

    def time_remaining(self, stage="train") -> float:
        return self.remaining


class FakeTrainer:
    """What the callback reads of a Trainer: its timer, epochs, schedule and step estimate."""

    def __init__(self, max_epochs: int, steps_per_epoch: int, timer: Timer) -> None:
        self.callbacks, self.current_epoch, self.steps_per_epoch = [timer], 0, steps_per_epoch
        self.global_step = 0  # a run starting, not resumed
        self.fit_loop = SimpleNamespace(max_epochs=max_epochs)
        self.scheduler = one_cycle(max_epochs * steps_per_epoch)
        self.lr_scheduler_configs = [SimpleNamespace(scheduler=self.scheduler)]

    @property
    def max_epochs(self) -> int:
        return self.fit_loop.max_epochs

    @property
    def estimated_stepping_batches(self) -> int:
        return self.fit_loop.max_epochs * self.steps_per_epoch


def fake_trainer(max_epochs: int, steps_per_epoch: int, timer: Timer):
    trainer = FakeTrainer(max_epochs, steps_per_epoch, timer)
    return trainer, trainer.scheduler


def test_the_callback_shortens_run_and_schedule_when_the_epochs_do_not_fit() -> None:
    trainer, scheduler = fake_trainer(8, 100, FakeTimer(elapsed=120.0, remaining=600.0))
    callback = FitScheduleToTime(margin=0.04)
    callback.on_train_start(trainer, None)
    callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 5 and scheduler.total_steps == 500  # 1 + floor(576 / 120)
    resumed = FitScheduleToTime()
    resumed.load_state_dict(callback.state_dict())
    other, _ = fake_trainer(8, 100, FakeTimer(0.0, 1.0))
    resumed.on_train_start(other, None)
    assert other.fit_loop.max_epochs == 5  # a resumed run keeps the plan it started with


def test_the_callback_leaves_a_run_that_fits_alone() -> None:
    trainer, scheduler = fake_trainer(8, 100, FakeTimer(elapsed=60.0, remaining=3600.0))
    callback = FitScheduleToTime()
    callback.on_train_start(trainer, None)
    callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 8 and scheduler.total_steps == 800


def test_a_slow_first_epoch_is_said_loudly_and_the_plan_grows_back_when_the_pace_recovers(caplog) -> None:
    """A busy first epoch (10 min) shortens a 14-minute run to 2 epochs; when the next epochs take
    a minute each, the plan grows again, never past the configured epochs."""
    timer = FakeTimer(elapsed=600.0, remaining=240.0)
    trainer, scheduler = fake_trainer(8, 100, timer)
    callback = FitScheduleToTime(margin=0.0)
    callback.on_train_start(trainer, None)
    with caplog.at_level("WARNING"):
        callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 1 and "TIME BUDGET" in caplog.text
    trainer.current_epoch, timer.elapsed, timer.remaining = 1, 660.0, 3000.0  # a long cap, a fast epoch
    caplog.clear()
    with caplog.at_level("WARNING"):
        callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 8 and scheduler.total_steps == 800  # back to the configured plan
    assert "more epochs fit" in caplog.text


def test_a_lengthened_schedule_is_the_schedule_planned_for_that_length() -> None:
    planned_short = one_cycle(400)
    learning_rates(planned_short, 20)  # still warming up
    rescale_one_cycle(planned_short, 1000)
    after = learning_rates(planned_short, 980)
    reference = learning_rates(one_cycle(1000), 1000)
    assert after[1:] == pytest.approx(reference[21:], rel=1e-6)


def test_a_plan_does_not_swing_back_and_forth_on_noise() -> None:
    """Shortened at a 70 s pace, the plan does not grow for one epoch a little faster (60 s, where
    12 epochs would just fit), only when they fit even 10% slower (45 s)."""
    timer = FakeTimer(elapsed=70.0, remaining=700.0)
    trainer, _ = fake_trainer(30, 100, timer)
    callback = FitScheduleToTime(margin=0.0)
    callback.on_train_start(trainer, None)
    callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 11  # 1 + 700 / 70
    trainer.current_epoch, timer.elapsed, timer.remaining = 1, 130.0, 640.0
    callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 11  # 2 + 640 / 60 = 12 fits just; 2 + 640 / 66 does not
    trainer.current_epoch, timer.elapsed, timer.remaining = 2, 175.0, 595.0
    callback.on_train_epoch_end(trainer, None)
    assert trainer.fit_loop.max_epochs == 15  # 3 + floor(595 / 49.5), not 3 + floor(595 / 45) = 16
