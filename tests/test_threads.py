"""The thread governor keeps whichever CPU thread count trains fastest, and switches back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from anpr.train import threads as governor_module
from anpr.train.threads import ThreadGovernor, neighbours


class FakeClock:
    """perf_counter for the governor: each step lasts ``cost[threads]`` seconds."""

    def __init__(self, cost):
        self.cost, self.now, self.starting = cost, 0.0, True

    def __call__(self) -> float:
        if not self.starting:
            self.now += self.cost[torch.get_num_threads()]
        self.starting = not self.starting
        return self.now


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def run_steps(governor, steps):
    trainer = SimpleNamespace(loggers=[], global_step=0)
    for _ in range(steps):
        governor.on_train_batch_start(trainer, None, None, 0)
        governor.on_train_batch_end(trainer, None, None, None, 0)


def test_neighbours_are_half_and_double_within_bounds():
    assert neighbours(2, 2) == [1] and neighbours(1, 2) == [2] and neighbours(4, 8) == [2, 8]


def test_a_busy_machine_gets_one_thread_and_a_free_one_gets_both_back(two_threads, monkeypatch):
    clock = FakeClock({2: 0.20, 1: 0.06})  # two threads stalled by a neighbour
    monkeypatch.setattr(governor_module.time, "perf_counter", clock)
    governor = ThreadGovernor(probe_every_s=1.0, probe_steps=3)
    governor.on_train_start(None, SimpleNamespace(device=torch.device("cpu")))
    run_steps(governor, 1 + 2 * 4)  # the check starts after a step, then 4 steps on each count
    assert torch.get_num_threads() == 1 and governor.switches == 1
    clock.cost = {2: 0.03, 1: 0.06}  # the neighbour has gone
    run_steps(governor, 10)  # 0.6 s of training: no check yet
    assert torch.get_num_threads() == 1
    run_steps(governor, 10 + 2 * 4)  # past a second of training, then the check
    assert torch.get_num_threads() == 2 and governor.switches == 2


def test_a_stalled_thread_count_is_judged_on_few_steps(two_threads, monkeypatch):
    clock = FakeClock({2: 10.0, 1: 0.06})  # two threads beside a busy program: 10 s a step
    monkeypatch.setattr(governor_module.time, "perf_counter", clock)
    governor = ThreadGovernor(probe_every_s=60.0, probe_steps=6, probe_max_s=2.0)
    governor.on_train_start(None, SimpleNamespace(device=torch.device("cpu")))
    run_steps(governor, 1 + 2 + 7)  # a step, then two on two threads (one warms up, one timed), then seven on one
    assert torch.get_num_threads() == 1 and governor.switches == 1
    assert clock.now < 31  # three stalled steps, not the seven a full probe would take


def test_small_differences_do_not_switch(two_threads, monkeypatch):
    monkeypatch.setattr(governor_module.time, "perf_counter", FakeClock({2: 0.100, 1: 0.095}))
    governor = ThreadGovernor(probe_every_s=0.5, probe_steps=3, min_gain=0.1)
    governor.on_train_start(None, SimpleNamespace(device=torch.device("cpu")))
    run_steps(governor, 40)
    assert torch.get_num_threads() == 2 and governor.switches == 0


def test_off_the_cpu_it_does_nothing(two_threads, monkeypatch):
    monkeypatch.setattr(governor_module.time, "perf_counter", FakeClock({2: 0.2, 1: 0.01}))
    governor = ThreadGovernor(probe_every_s=0.0, probe_steps=1)
    governor.on_train_start(None, SimpleNamespace(device=torch.device("cuda")))
    run_steps(governor, 20)
    assert torch.get_num_threads() == 2 and governor.switches == 0
