"""Multiruns: a grid and an Optuna search leave one run folder per job, each with TensorBoard events
and the HPARAMS summary; a failed trial does not stop the study; a job resumes from its folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from helpers import ROOT, TINY_MODEL, compose_train, random_plate_texts, run_script, write_rec_dataset
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from anpr.train.hparams import HPARAMS_METRICS

TRAIN = str(ROOT / "scripts" / "train.py")


def tiny_args(images_dir: Path, labels_file: Path) -> list[str]:
    return [
        "data=rec",
        f"data.images_dir={images_dir}",
        f"data.labels_file={labels_file}",
        "hardware=cpu",
        "preset=speed",
        "data.num_workers=0",
        "trainer.max_epochs=2",
        "batch_size=16",
        "trainer.log_every_n_steps=1",
        "callbacks.progress_bar=null",
        "callbacks.early_stopping=null",
        *TINY_MODEL,
    ]


def read_run(tensorboard_dir: Path) -> tuple[dict, list[str], set[str]]:
    """(hparams, metric tags the HPARAMS tab shows, scalar tags) from a run's event files."""
    hparams, metric_tags, scalars = {}, [], set()
    for events in tensorboard_dir.glob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        scalars |= set(accumulator.Tags()["scalars"])
        for content in accumulator.PluginTagToContent("hparams").values():
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
            if data.HasField("experiment"):
                metric_tags += [info.name.tag for info in data.experiment.metric_infos]
            if data.HasField("session_start_info"):
                for name, value in data.session_start_info.hparams.items():
                    hparams[name] = value.number_value if value.HasField("number_value") else value.string_value
    return hparams, metric_tags, scalars


def check_job(run_dir: Path) -> dict:
    """A finished job's folder: checkpoints, metrics, and TensorBoard events with the HPARAMS data."""
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    hparams, metric_tags, scalars = read_run(run_dir / "tensorboard")
    assert metric_tags == list(HPARAMS_METRICS)
    assert set(HPARAMS_METRICS) <= scalars  # every column of the HPARAMS tab has its values
    assert {"model/hidden_size", "scheduler/max_lr", "optimizer/weight_decay", "batch_size"} <= set(hparams)
    return hparams


@pytest.mark.slow
def test_grid_multirun_gives_each_job_a_folder_with_hparams_and_a_resumable_checkpoint(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(40))
    sweep_dir = tmp_path / "sweep"
    result = run_script(
        [
            TRAIN,
            "-m",
            *tiny_args(images_dir, labels_file),
            "model.hidden_size=16,24",
            f"hydra.sweep.dir={sweep_dir}",
            "callbacks.best_sequence_accuracy.save_top_k=-1",  # keep every epoch's checkpoint
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in sweep_dir.iterdir() if p.is_dir()) == ["0", "1"]
    assert [check_job(sweep_dir / job)["model/hidden_size"] for job in ("0", "1")] == [16, 24]

    # A job resumes like a single run: its overrides, its folder, ckpt_path=last. As if job 0 had
    # been stopped after its first epoch, its epoch-0 checkpoint becomes last.ckpt.
    job = sweep_dir / "0"
    last = job / "checkpoints" / "last.ckpt"
    steps = torch.load(last, weights_only=True)["global_step"]
    (first_epoch,) = (job / "checkpoints").glob("best_sequence_accuracy-epoch000-*.ckpt")
    shutil.copy(first_epoch, last)
    overrides = list(OmegaConf.load(job / ".hydra" / "overrides.yaml"))
    resumed = run_script([TRAIN, *overrides, "ckpt_path=last", f"hydra.run.dir={job}"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Restoring states from the checkpoint path at {last}" in resumed.stdout + resumed.stderr
    assert torch.load(last, weights_only=True)["global_step"] == steps


@pytest.mark.slow
def test_optuna_sweep_records_trials_in_sqlite_survives_a_failed_trial_and_resumes(tmp_path: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    optuna = pytest.importorskip("optuna")
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(40))
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = ["hparams_search=optuna", f"hydra.sweeper.storage={storage}", "hydra.sweeper.study_name=test"]
    # The sweeper searches what the search space names and the command line does not fix.
    args = [a for a in tiny_args(images_dir, labels_file) if not a.startswith(("model.hidden_size=", "batch_size="))]
    # A grid over three hidden sizes, one of which cannot be built: that trial fails, the others run.
    space = (
        'hydra.sweeper.params={model.hidden_size: "choice(0, 16, 24)", batch_size: "choice(16)",'
        ' scheduler.max_lr: "choice(3e-3)", optimizer.weight_decay: "choice(2e-2)"}'
    )
    first = tmp_path / "first"
    grid = [TRAIN, *study, *args, space, "hydra/sweeper/sampler=grid", f"hydra.sweep.dir={first}"]
    result = run_script(grid, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    trials = optuna.load_study(study_name="test", storage=storage).trials
    assert {t.params["model.hidden_size"]: t.state.name for t in trials} == {0: "FAIL", 16: "COMPLETE", 24: "COMPLETE"}
    for trial in trials:
        check_trial(first / str(trial.number), trial)
    best = OmegaConf.load(first / "optimization_results.yaml")
    assert best.best_params["model.hidden_size"] in (16, 24)

    # The same command with the same storage and study continues the study (here with TPE, the
    # default sampler; the search space must stay the same).
    second = tmp_path / "second"
    again = run_script([TRAIN, *study, *args, space, "hydra.sweeper.n_trials=1", f"hydra.sweep.dir={second}"], tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    trials = optuna.load_study(study_name="test", storage=storage).trials
    assert len(trials) == 4
    check_trial(second / "0", trials[-1])


def check_trial(run_dir: Path, trial) -> None:
    """A trial that could be built completed, left its run folder and reported its best accuracy."""
    if trial.params["model.hidden_size"] == 0:
        assert trial.state.name == "FAIL"
        return
    assert trial.state.name == "COMPLETE"
    assert check_job(run_dir)["model/hidden_size"] == trial.params["model.hidden_size"]
    assert trial.value == json.loads((run_dir / "metrics.json").read_text())["best/val/seq_acc"]


def test_optuna_search_covers_the_tuning_table_and_maximises_sequence_accuracy() -> None:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    cfg = compose_train(["hparams_search=optuna"])
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.direction == "maximize" and cfg.optimized_metric == "val/seq_acc"
    assert set(sweeper.params) == {"scheduler.max_lr", "optimizer.weight_decay", "model.hidden_size", "batch_size"}
    assert sweeper.storage is None and sweeper.n_trials > 0


def test_multirun_jobs_land_in_their_own_folders() -> None:
    cfg = OmegaConf.to_container(compose_train([]))  # unresolved
    assert cfg["hydra"]["sweep"]["dir"].startswith("${paths.log_dir}/multirun/")
    assert cfg["hydra"]["sweep"]["subdir"] == "${hydra.job.num}"
    assert cfg["paths"]["output_dir"] == "${hydra:runtime.output_dir}"  # the job's folder in a multirun
    assert cfg["logger"]["tensorboard"]["save_dir"] == "${paths.output_dir}"
    assert cfg["callbacks"]["last"]["dirpath"] == "${paths.output_dir}/checkpoints"
