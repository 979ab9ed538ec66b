"""Every preset x hardware combination composes and hands the right knobs to Trainer and data."""

from __future__ import annotations

import math

import pytest
from helpers import compose_train
from hydra.utils import instantiate

from anpr.config.compose import accumulation, micro_batch
from anpr.config.contract import contract_from_config
from anpr.train.run import build_data

PRESETS = {"speed": (128, 50, 10000), "balanced": (96, 100, None), "accuracy": (64, 200, None)}
HARDWARE = {
    # name: (accelerator, precision, max micro-batch, workers, pin_memory)
    "cpu": ("cpu", "32-true", 64, None, False),
    "gpu4gb": ("gpu", "16-mixed", 32, 0, True),
    "gpu12gb": ("gpu", "16-mixed", 128, 8, True),
}


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("hardware", HARDWARE)
def test_preset_and_hardware_compose(preset: str, hardware: str) -> None:
    cfg = compose_train([f"preset={preset}", f"hardware={hardware}"])
    batch, epochs, samples = PRESETS[preset]
    accelerator, precision, max_micro, workers, pin = HARDWARE[hardware]

    assert cfg.trainer.max_epochs == epochs
    assert cfg.data.max_samples == samples
    assert cfg.trainer.accelerator == accelerator
    assert cfg.trainer.precision == precision
    assert cfg.trainer.devices == 1
    # The rule: the preset sets the effective batch, the hardware caps the micro-batch.
    steps = math.ceil(batch / max_micro)
    assert cfg.trainer.accumulate_grad_batches == steps
    assert cfg.data.batch_size == math.ceil(batch / steps)
    assert cfg.data.batch_size * cfg.trainer.accumulate_grad_batches >= batch
    assert cfg.data.batch_size <= max_micro
    if workers is not None:
        assert cfg.data.num_workers == workers
    assert cfg.data.pin_memory is pin


def test_gpu4gb_accumulates_the_accuracy_preset() -> None:
    cfg = compose_train(["preset=accuracy", "hardware=gpu4gb"])
    assert (cfg.data.batch_size, cfg.trainer.accumulate_grad_batches) == (32, 2)


@pytest.mark.parametrize("preset", PRESETS)
def test_cpu_profile_builds_trainer_and_datamodule(preset: str, rec_dataset) -> None:
    images_dir, labels_file = rec_dataset
    cfg = compose_train(
        [
            f"preset={preset}",
            "hardware=cpu",
            "data=rec",
            f"data.images_dir={images_dir}",
            f"data.labels_file={labels_file}",
            "data.num_workers=0",
            "paths.output_dir=/tmp/anpr-test",
        ]
    )
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
    datamodule = build_data(cfg, contract_from_config(cfg))
    assert trainer.max_epochs == PRESETS[preset][1]
    assert trainer.accumulate_grad_batches == cfg.trainer.accumulate_grad_batches
    assert trainer.precision == "32-true"
    assert type(trainer.accelerator).__name__ == "CPUAccelerator"
    assert trainer.gradient_clip_val == 1.0
    assert datamodule.batch_size == cfg.data.batch_size
    assert datamodule.pin_memory is False
    contract = datamodule.contract
    assert (contract.image_height, contract.image_width) == (cfg.model.image_height, cfg.model.image_width)
    assert list(contract.mean) == list(cfg.normalization.mean) and contract.charset == cfg.charset


def test_batching_rule() -> None:
    assert (micro_batch(128, 32), accumulation(128, 32)) == (32, 4)
    assert (micro_batch(96, 128), accumulation(96, 128)) == (96, 1)
    assert (micro_batch(100, 64), accumulation(100, 64)) == (50, 2)
    with pytest.raises(ValueError):
        accumulation(0, 32)


def test_default_run_is_the_demo_on_synthetic_plates() -> None:
    cfg = compose_train([])
    assert cfg.data._target_.endswith("SynthPlateDataModule")
    assert cfg.trainer.accelerator == "auto"
    assert cfg.trainer.max_epochs <= 30


def test_overrides_reach_their_groups() -> None:
    cfg = compose_train(["trainer.max_steps=20", "trainer.limit_val_batches=2", "model.hidden_size=128"])
    assert cfg.trainer.max_steps == 20 and cfg.trainer.limit_val_batches == 2
    assert cfg.model.hidden_size == 128


@pytest.mark.parametrize(
    "asked, native, expected",
    [
        (False, True, "32-true"),
        (True, False, "32-true"),
        (True, True, "bf16-mixed"),
    ],
)
def test_cpu_bf16_needs_both_the_request_and_native_support(monkeypatch, asked, native, expected) -> None:
    import torch

    import anpr.config.compose

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(anpr.config.compose, "cpu_runs_bf16_fast", lambda: native)
    assert anpr.config.compose.auto_precision(asked) == expected


@pytest.mark.slow
def test_only_the_demo_asks_for_cpu_bf16() -> None:
    assert compose_train([]).cpu_bf16 is True
    for preset in PRESETS:
        assert compose_train([f"preset={preset}"]).cpu_bf16 is False


def test_users_add_their_own_config_folder_without_copying_ours(tmp_path, capsys):
    """`anpr train --config-dir DIR`: DIR's groups join conf/'s; a data config there extends ours."""
    from helpers import script_main

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "depot.yaml").write_text(
        "defaults:\n  - rec\nimages_dir: /srv/depot/images\nlabels_file: /srv/depot/labels.txt\n"
    )
    assert script_main("train")(["--config-dir", str(tmp_path), "data=depot", "--cfg", "job"]) == 0
    printed = capsys.readouterr().out
    assert "images_dir: /srv/depot/images" in printed and "_target_: anpr.data.PlateDataModule" in printed
