"""DDP: the hardware profiles, the per-process batch, unpadded validation, and a two-process CPU run
whose validation accuracies equal a single-process evaluation of its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import pytest
from helpers import ROOT, compose_train, random_plate_texts, run_script, tiny_datamodule, write_rec_dataset
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from anpr.train.distributed import per_process_batching, unpadded_validation
from anpr.train.module import PlateRecognitionModule


def test_multigpu_profile_is_ddp_on_every_gpu_with_sync_batchnorm() -> None:
    cfg = compose_train(["hardware=multigpu", "preset=balanced"])
    trainer = cfg.trainer
    assert (trainer.accelerator, trainer.devices, trainer.strategy) == ("gpu", -1, "ddp")
    assert trainer.sync_batchnorm is True and trainer.use_distributed_sampler is True
    assert trainer.num_nodes == 1
    assert compose_train(["hardware=multigpu", "trainer.num_nodes=4"]).trainer.num_nodes == 4


def test_ddp_cpu_profile_is_two_gloo_processes() -> None:
    cfg = compose_train(["hardware=ddp_cpu"])
    assert (cfg.trainer.accelerator, cfg.trainer.devices) == ("cpu", 2)
    assert cfg.trainer.strategy.process_group_backend == "gloo"


@pytest.mark.slow
def test_slurm_launcher_asks_for_the_trainer_nodes_and_one_task_per_gpu() -> None:
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    cfg = compose_train(
        ["hydra/launcher=slurm", "hardware=multigpu", "trainer.num_nodes=2", "hydra.launcher.gpus_per_node=8"]
    )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.gpus_per_node, launcher.tasks_per_node) == (2, 8, 8)
    assert compose_train(["hydra/launcher=slurm"]).hydra.launcher.nodes == 1  # profiles without num_nodes


@pytest.mark.parametrize(
    ("batch", "max_micro", "world", "expected"),
    [(96, 128, 4, (24, 1)), (128, 32, 2, (32, 2)), (64, 64, 1, None), (100, 64, 3, (34, 1))],
)
def test_preset_batch_is_the_global_batch(batch: int, max_micro: int, world: int, expected) -> None:
    cfg = compose_train([f"batch_size={batch}", f"max_micro_batch={max_micro}"])
    batching = per_process_batching(cfg, world)
    if expected is None:
        assert batching is None
        return
    assert (batching["batch_size"], batching["accumulate_grad_batches"]) == expected
    micro, steps = expected
    assert world * micro * steps >= batch > world * micro * steps - world * steps  # rounded up by < one image a process


def test_explicit_per_process_batch_is_kept() -> None:
    assert per_process_batching(compose_train(["data.batch_size=8"]), 4) is None


@pytest.mark.parametrize("size", [7, 8, 2])
def test_validation_is_split_across_processes_without_duplicates(size: int, tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path, random_plate_texts(size + 4))
    val_dir, val_labels = write_rec_dataset(tmp_path / "val", random_plate_texts(size, seed=1))
    seen = []
    for rank in range(2):
        datamodule = tiny_datamodule(
            images_dir, labels_file, val_images_dir=str(val_dir), val_labels_file=str(val_labels), batch_size=4
        )
        datamodule.setup()
        unpadded_validation(datamodule)
        datamodule.trainer = SimpleNamespace(world_size=2, global_rank=rank)
        loader = datamodule.val_dataloader()
        assert isinstance(loader, DataLoader) and loader.batch_size == 4
        seen += [text for batch in loader for text in batch["texts"]]
    assert sorted(seen) == sorted(random_plate_texts(size, seed=1))


# Big enough to learn four short plates in a few dozen steps.
EASY_MODEL = [
    "model.image_height=32",
    "model.image_width=128",
    "model.stem_channels=[16,32]",
    "model.stages=[{out_channels: 48, blocks: 1, stride: [2, 2]}, {out_channels: 64, blocks: 1, stride: [2, 1]}]",
    "model.neck_channels=64",
    "model.pool_rows=1",
    "model.hidden_size=64",
    "model.lstm_layers=1",
    "model.dropout=0.0",
]


@pytest.mark.slow
def test_two_process_ddp_multirun_validates_like_one_process(tmp_path: Path) -> None:
    """A multirun of two DDP jobs (2 CPU processes each, gloo) on four short plates. Seven
    validation plates (the four and three unseen ones), so padding would count one twice. Each
    job's final accuracies equal a one-process evaluation of its last checkpoint, exactly."""
    texts = ["KL01", "MH24", "DL37", "TN58"]
    images_dir, labels_file = write_rec_dataset(tmp_path / "train", texts * 12)
    val_dir, val_labels = write_rec_dataset(tmp_path / "val", [*texts, "KA19", "UP60", "GJ05"])
    sweep_dir = tmp_path / "sweep"
    result = run_script(
        [
            str(ROOT / "scripts" / "train.py"),
            "-m",
            "hardware=ddp_cpu",
            "preset=speed",
            "data=rec",
            f"data.images_dir={images_dir}",
            f"data.labels_file={labels_file}",
            f"data.val_images_dir={val_dir}",
            f"data.val_labels_file={val_labels}",
            "augmentation=none",
            "callbacks.progress_bar=null",
            "callbacks.early_stopping=null",
            "trainer.max_epochs=40",
            "trainer.check_val_every_n_epoch=10",
            "batch_size=16",
            f"hydra.sweep.dir={sweep_dir}",
            *EASY_MODEL,
            "scheduler.max_lr=1e-2,2e-2",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    accuracies = []
    for job in ("0", "1"):
        run_dir = sweep_dir / job
        assert (run_dir / "train_ddp_process_1.log").is_file()  # the second rank ran this job
        ddp = json.loads((run_dir / "metrics.json").read_text())
        module = PlateRecognitionModule.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt", map_location="cpu")
        datamodule = tiny_datamodule(
            images_dir,
            labels_file,
            module.contract,
            val_images_dir=str(val_dir),
            val_labels_file=str(val_labels),
            batch_size=5,
        )
        trainer = L.Trainer(
            accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False
        )
        (single,) = trainer.validate(module, datamodule=datamodule, verbose=False)
        assert ddp["val/seq_acc"] == single["val/seq_acc"]
        assert ddp["val/char_acc"] == single["val/char_acc"]
        accuracies.append((ddp["val/seq_acc"], ddp["val/char_acc"]))
    # Not trivially 0 or 1, so one plate counted twice would change them.
    assert all(0.0 < char < 1.0 for _, char in accuracies), accuracies
    assert any(0.0 < seq < 1.0 for seq, _ in accuracies), accuracies
    hparams = OmegaConf.load(sweep_dir / "1" / "tensorboard" / "hparams.yaml")
    assert hparams["scheduler/max_lr"] == 2e-2
