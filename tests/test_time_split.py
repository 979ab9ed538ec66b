"""Each epoch's wall time, split by Lightning's profiler into the parts a user can act on."""

from __future__ import annotations

import pytest
from helpers import write_rec_dataset
from helpers.models import quiet_trainer, tiny_contract, tiny_datamodule, tiny_module
from helpers.plates import random_plate_texts
from lightning.pytorch.profilers import SimpleProfiler

from anpr.train.time_split import GRAMMAR_ACTION, PARTS, TimeSplit, part_of


def test_profiler_actions_map_to_the_parts_of_an_epoch():
    assert part_of("run_training_batch") == "steps"
    assert part_of("[_TrainingEpochLoop].train_dataloader_next") == "data_wait"
    assert part_of("[Strategy]SingleDeviceStrategy.validation_step") == "validation"
    assert part_of(GRAMMAR_ACTION) == "grammar_decoding"
    assert part_of("save_checkpoint") == "checkpointing"
    assert part_of("[Callback]ModelCheckpoint{'monitor': None}.on_train_epoch_end") is None  # its save is counted
    assert part_of("[Callback]ValidationSummary.on_validation_epoch_end") == "callbacks_and_logging"
    assert part_of("[Callback]ThreadGovernor.on_before_backward") is None  # inside the step already


@pytest.mark.slow
def test_a_run_reports_where_each_epochs_time_went(tmp_path):
    images_dir, labels_file = write_rec_dataset(tmp_path / "data", random_plate_texts(24, seed=4))
    contract = tiny_contract(grammar="india")
    split = TimeSplit()
    trainer = quiet_trainer(
        tmp_path,
        [split],
        max_epochs=2,
        profiler=SimpleProfiler(dirpath=tmp_path, filename="profile"),
        num_sanity_val_steps=0,
    )
    trainer.fit(tiny_module(contract), datamodule=tiny_datamodule(images_dir, labels_file, contract, batch_size=4))
    summary = split.summary()
    assert [e["epoch"] for e in summary["epochs"]] == [0, 1]
    for epoch in summary["epochs"]:
        assert epoch["steps"] > 0 and epoch["data_wait"] > 0 and epoch["validation"] > 0
        assert 0 < epoch["grammar_decoding"] <= epoch["validation"]
        counted = sum(epoch[p] for p in PARTS) - epoch["grammar_decoding"]
        assert counted <= epoch["wall"] + 1e-3 and epoch["other"] == pytest.approx(epoch["wall"] - counted, abs=2e-3)
        assert epoch["plates_per_s_in_steps"] > epoch["plates_per_s"] > 0
    assert summary["total_seconds"]["wall"] == pytest.approx(sum(e["wall"] for e in summary["epochs"]), abs=1e-2)


def test_a_resumed_run_says_how_far_it_is_and_when_it_ends():
    from anpr.train.time_split import resume_report

    line = resume_report(trained=1200.0, step=300, total_steps=1200, epoch=4, max_epochs=16)
    assert line.startswith("resuming at step 300 of 1200 (25%), epoch 5 of 16, after 20.0 min of training")
    assert line.endswith("the plan ends after epoch 16, about 60 min of training from now")


def test_runs_are_matched_on_the_overrides_that_define_them():
    from anpr.config.runs import comparable

    assert comparable(["preset=demo", "ckpt_path=last", "hydra.run.dir=x", "seed=1"]) == ["preset=demo", "seed=1"]
