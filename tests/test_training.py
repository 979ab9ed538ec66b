"""Training end to end: a tiny model overfits, train.py leaves checkpoints and logs, resume works."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from helpers import (
    TINY_CONTRACT,
    TINY_NET,
    random_plate_texts,
    run_script,
    tiny_contract,
    tiny_datamodule,
    train_args,
    write_rec_dataset,
)
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from anpr.train.module import PlateRecognitionModule
from anpr.train.plateau import PlateauExit

OVERFIT_MODEL = {  # TINY_NET, wide enough to learn 32 plates by heart in a few hundred steps
    **TINY_NET,
    "stem_channels": [16, 32],
    "neck_channels": 64,
    "hidden_size": 64,
    "stages": [
        {"out_channels": 48, "blocks": 1, "stride": [2, 2]},
        {"out_channels": 64, "blocks": 1, "stride": [2, 1]},
    ],
}


@pytest.mark.slow
def test_tiny_model_overfits_32_plates(tmp_path: Path) -> None:
    """Proof that loss, decoding and metrics are wired right: 100% on the training plates."""
    images_dir, labels_file = write_rec_dataset(tmp_path, random_plate_texts(32, seed=3))
    contract = tiny_contract(grammar="india")
    datamodule = tiny_datamodule(
        images_dir,
        labels_file,
        contract,
        val_images_dir=str(images_dir),
        val_labels_file=str(labels_file),
        batch_size=32,
    )
    module = PlateRecognitionModule(
        model=OVERFIT_MODEL, contract=contract, scheduler={"max_lr": 1e-2, "pct_start": 0.15}
    )
    L.seed_everything(0)
    trainer = L.Trainer(
        max_steps=400,
        max_epochs=-1,
        check_val_every_n_epoch=400,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        gradient_clip_val=1.0,
        num_sanity_val_steps=0,
        callbacks=[plateau := PlateauExit(window=4)],
    )
    trainer.fit(module, datamodule=datamodule)
    # It left the plateau (read 1% of 4 batches' plates) on the way to reading every plate.
    assert plateau.exit_step is not None and 4 <= plateau.exit_step < 400
    assert trainer.callback_metrics["train/plateau_exit_step"] == plateau.exit_step
    (result,) = trainer.validate(module, datamodule=datamodule, verbose=False)
    assert result["val/seq_acc"] == 1.0
    assert result["val/char_acc"] == 1.0
    assert result["val/seq_acc_grammar"] == 1.0  # grammar decoding of the same logits, logged beside it


def scalar_tags(event_dir: Path) -> set[str]:
    tags = set()
    for events in event_dir.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"]) | {f"image:{t}" for t in accumulator.Tags()["images"]}
    return tags


@pytest.mark.slow
def test_train_script_leaves_checkpoints_and_tensorboard_logs_and_resumes(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(48))
    run_dir = tmp_path / "run"
    first = run_script(train_args(images_dir, labels_file, run_dir, "trainer.max_epochs=2", "batch_size=16"), tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    console = first.stdout + first.stderr
    assert console.count("Seed set to 42") == 1  # Lightning's records once, through Hydra's log
    assert "litlogger" not in console

    checkpoints = {p.name for p in (run_dir / "checkpoints").iterdir()}
    assert any(n.startswith("best_sequence_accuracy") for n in checkpoints)
    assert any(n.startswith("best_character_accuracy") for n in checkpoints)
    assert "last.ckpt" in checkpoints
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    tags = scalar_tags(run_dir / "tensorboard")
    for tag in [
        "train/loss_step",
        "val/loss",
        "val/seq_acc",
        "val/seq_acc_grammar",
        "val/char_acc",
        "image:val/predictions",
    ]:
        assert tag in tags, tags
    assert any(t.startswith("lr") for t in tags), tags

    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["anpr"]["charset"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    assert ckpt["anpr"]["preprocessing"]["image_height"] == 32
    assert ckpt["anpr"]["model"]["_target_"] == "anpr.models.CRNN"
    assert ckpt["global_step"] == 6  # 2 epochs x ceil(41 train samples / 16)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "val/seq_acc" in metrics and "best/val/seq_acc" in metrics


@pytest.mark.slow
def test_resuming_with_another_epoch_count_is_refused_with_advice(tmp_path: Path) -> None:
    """The one-cycle schedule is fixed at a run's start; a resume that plans more steps would
    otherwise crash when the schedule runs out, after all that training."""
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(48))
    run_dir = tmp_path / "run"
    first = run_script(train_args(images_dir, labels_file, run_dir, "trainer.max_epochs=2", "batch_size=16"), tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    longer = run_script(
        train_args(images_dir, labels_file, run_dir, "trainer.max_epochs=4", "batch_size=16", "ckpt_path=last"),
        tmp_path,
    )
    assert longer.returncode != 0
    assert "schedule spans 6 optimizer steps" in longer.stderr and "this run plans 12" in longer.stderr
    assert "init_from=" in longer.stderr
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 6  # untouched


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint_and_continues_the_global_step(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(48))
    run_dir = tmp_path / "run"
    args = train_args(images_dir, labels_file, run_dir, "trainer.max_epochs=40", "batch_size=16")
    process = subprocess.Popen([sys.executable, *args], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while not last.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    process.kill()  # SIGKILL: no chance to save anything more
    process.wait()
    killed_at = torch.load(last, weights_only=True)["global_step"]
    assert 0 < killed_at < 40 * 3, "the run should have been killed mid-training"

    resumed = run_script([*args, "ckpt_path=last"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    final = torch.load(last, weights_only=True)
    assert final["global_step"] == 40 * 3
    assert final["epoch"] == 39
    assert f"Epoch {killed_at // 3}/40" not in resumed.stdout  # finished epochs are not redone
    assert f"Epoch {killed_at // 3 + 1}/40" in resumed.stdout


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_mid_epoch_and_the_run_resumes(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(48))
    run_dir = tmp_path / "run"
    args = train_args(images_dir, labels_file, run_dir, "trainer.max_epochs=6", "batch_size=2")
    steps_per_epoch = 21  # ceil(41 / 2)
    process = subprocess.Popen(
        [sys.executable, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while not last.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # into the second epoch
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    saved = torch.load(last, weights_only=True)["global_step"]
    assert steps_per_epoch <= saved < 6 * steps_per_epoch, output[-2000:]

    resumed = run_script([*args, "ckpt_path=last"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert torch.load(last, weights_only=True)["global_step"] == 6 * steps_per_epoch


def _validate_with_reads(tmp_path: Path, layouts: dict[int, str], read_right: str) -> tuple[dict, list]:
    """Validate on 8 drawn plates whose predictions are right exactly for ``read_right`` plates."""
    import warnings
    from types import SimpleNamespace

    texts = random_plate_texts(8, seed=5)
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", texts)
    layouts_file = tmp_path / "layout.tsv"
    layouts_file.write_text("".join(f"plate_{i:04d}.png\t{layout}\n" for i, layout in layouts.items()))
    datamodule = tiny_datamodule(
        images_dir,
        labels_file,
        val_images_dir=str(images_dir),
        val_labels_file=str(labels_file),
        layouts_file=str(layouts_file),
        batch_size=4,
    )
    module = PlateRecognitionModule(model=OVERFIT_MODEL, contract=TINY_CONTRACT)
    seen: dict = {}
    validation_step = module.validation_step

    def remember_batch(batch: dict, batch_idx: int) -> dict:
        seen.update(batch)
        return validation_step(batch, batch_idx)

    module.validation_step = remember_batch
    module.decode = lambda logits: [  # the truth for one layout, a wrong read for the other
        SimpleNamespace(text=text if layout == read_right else "X")
        for text, layout in zip(seen["texts"], seen["layouts"])
    ]
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (result,) = trainer.validate(module, datamodule=datamodule, verbose=False)
    return result, [str(w.message) for w in caught]


def test_validation_reports_sequence_accuracy_per_layout(tmp_path: Path) -> None:
    layouts = {i: "two-line" if i in (1, 4, 6) else "one-line" for i in range(8)}
    result, _ = _validate_with_reads(tmp_path, layouts, read_right="two-line")
    assert result["val/seq_acc_two_line"] == 1.0
    assert result["val/seq_acc_one_line"] == 0.0
    assert result["val/seq_acc"] == pytest.approx(3 / 8)


def test_a_layout_missing_from_the_set_is_not_reported_and_not_warned_about(tmp_path: Path) -> None:
    result, warned = _validate_with_reads(tmp_path, dict.fromkeys(range(8), "one-line"), read_right="one-line")
    assert result["val/seq_acc_one_line"] == 1.0
    assert "val/seq_acc_two_line" not in result
    assert not [m for m in warned if "before the ``update``" in m], warned


def test_resuming_a_run_that_early_stopping_ended_says_it_is_finished(tmp_path: Path) -> None:
    from anpr.errors import ConfigError
    from anpr.train.run import refuse_finished_run

    key = "EarlyStopping{'monitor': 'val/seq_acc', 'mode': 'max'}"
    running, finished = tmp_path / "running.ckpt", tmp_path / "finished.ckpt"
    state = {"wait_count": 1, "stopped_epoch": 0, "best_score": torch.tensor(0.5), "patience": 3}
    torch.save({"epoch": 3, "callbacks": {key: state}}, running)
    torch.save({"epoch": 7, "callbacks": {key: {**state, "wait_count": 3, "stopped_epoch": 7}}}, finished)
    refuse_finished_run(str(running))  # still running when it was saved: resumable
    with pytest.raises(ConfigError, match="early stopping ended it after epoch 8") as info:
        refuse_finished_run(str(finished))
    assert f"init_from={finished}" in str(info.value)


@pytest.mark.slow
def test_ckpt_path_newest_resumes_the_newest_run_started_with_the_same_overrides(tmp_path: Path) -> None:
    """A killed run is found again by its overrides alone; the resumed run says where it stands."""
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(24))
    args = [a for a in train_args(images_dir, labels_file, tmp_path / "unused") if not a.startswith("hydra.run.dir")]
    args += ["trainer.max_epochs=30", "batch_size=8"]  # 3 steps an epoch
    process = subprocess.Popen([sys.executable, *args], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not list(tmp_path.glob("outputs/train/*/checkpoints/last.ckpt")) and time.time() < deadline:
        time.sleep(0.05)
    process.kill()
    process.wait()
    (killed_run,) = (tmp_path / "outputs" / "train").iterdir()
    killed_at = torch.load(killed_run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    other = run_script([*args, "trainer.max_epochs=1"], tmp_path)  # newer, but started with other overrides
    assert other.returncode == 0, other.stderr[-2000:]

    resumed = run_script([*args, "ckpt_path=newest"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    log = " ".join((resumed.stdout + resumed.stderr).split())
    assert f"Restoring states from the checkpoint path at {killed_run / 'checkpoints' / 'last.ckpt'}" in log
    assert f"resuming at step {killed_at} of 90" in log and "the plan ends after epoch 30" in log
    assert torch.load(killed_run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 90
    assert len(list((tmp_path / "outputs" / "train").iterdir())) == 2  # no new run folder

    missing = run_script([*args, "model.hidden_size=8", "ckpt_path=newest"], tmp_path)
    assert missing.returncode == 2 and "ckpt_path=newest: no run under" in missing.stderr
