"""init_from: a new run starts from a checkpoint's network weights, and only from one that fits."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import (
    CHARSET,
    TINY_CONTRACT,
    TINY_NET,
    random_plate_texts,
    run_script,
    tiny_contract,
    train_args,
    write_rec_dataset,
)

from anpr.models.factory import build_model
from anpr.train.initial_weights import load_initial_weights

MODEL = TINY_NET
PREPROCESSING = TINY_CONTRACT.preprocessing


def save_checkpoint(path: Path, net: torch.nn.Module, model: dict = MODEL, charset: str = CHARSET) -> Path:
    """What PlateRecognitionModule.on_save_checkpoint writes around ``net``'s weights (in the
    form written before the contract carried a grammar, which must still load)."""
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "anpr": {"charset": charset, "preprocessing": PREPROCESSING, "model": model, "time_steps": 32},
        },
        path,
    )
    return path


def test_weights_are_copied_into_a_freshly_initialized_network(tmp_path: Path) -> None:
    torch.manual_seed(0)
    trained = build_model(MODEL, num_classes=len(CHARSET) + 1)
    path = save_checkpoint(tmp_path / "a.ckpt", trained)
    torch.manual_seed(1)
    fresh = build_model(MODEL, num_classes=len(CHARSET) + 1)
    assert not torch.equal(fresh.classifier.weight, trained.classifier.weight)
    load_initial_weights(fresh, path, TINY_CONTRACT, MODEL)
    for (name, a), b in zip(trained.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_checkpoint_of_another_network_is_refused_naming_every_difference(tmp_path: Path) -> None:
    other = {**MODEL, "hidden_size": 24}
    path = save_checkpoint(tmp_path / "b.ckpt", build_model(other, num_classes=len(CHARSET) - 9), other, CHARSET[:-10])
    fresh = build_model(MODEL, num_classes=len(CHARSET) + 1)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(ValueError) as err:
        load_initial_weights(fresh, path, tiny_contract(image_width=160, grammar="india"), MODEL)
    message = str(err.value)
    assert "b.ckpt" in message
    assert "model.hidden_size (checkpoint 24, this run 16)" in message
    assert "charset" in message and "image_width (checkpoint 128, this run 160)" in message
    assert "grammar" not in message  # decoding may change between runs
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())  # untouched


@pytest.mark.slow
def test_train_script_starts_a_new_run_from_another_runs_weights(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(48))
    first = run_script(
        train_args(images_dir, labels_file, tmp_path / "first", "trainer.max_epochs=2", "batch_size=16"), tmp_path
    )
    assert first.returncode == 0, first.stderr[-3000:]
    source = tmp_path / "first" / "checkpoints" / "last.ckpt"

    second_dir = tmp_path / "second"
    second = run_script(
        train_args(images_dir, labels_file, second_dir, "trainer.max_epochs=1", "batch_size=16", f"init_from={source}"),
        tmp_path,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Starting from the weights of" in second.stdout + second.stderr
    assert torch.load(second_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3  # a new run

    mismatched = run_script(
        train_args(
            images_dir,
            labels_file,
            tmp_path / "third",
            "trainer.max_epochs=1",
            f"init_from={source}",
            "model.hidden_size=24",
        ),
        tmp_path,
    )
    assert mismatched.returncode != 0
    assert "model.hidden_size (checkpoint 16, this run 24)" in mismatched.stderr

    both = run_script(
        train_args(images_dir, labels_file, tmp_path / "fourth", f"init_from={source}", f"ckpt_path={source}"), tmp_path
    )
    assert both.returncode != 0 and "Pick one" in both.stderr


def test_a_run_from_trained_weights_has_no_alignment_guide() -> None:
    """The guide is for a fresh network on the CTC plateau; started from trained weights it would
    pull the reads towards its own rows, whatever rows the weights learnt."""
    from anpr.config.compose import compose_train, run_settings
    from anpr.train.losses import alignment_weight
    from anpr.train.run import build_module

    fresh = build_module(run_settings(compose_train()), TINY_CONTRACT.with_time_steps(48))
    assert alignment_weight(0, **fresh.hparams.alignment) > 0
    tuned = build_module(run_settings(compose_train(["init_from=pretrained"])), TINY_CONTRACT.with_time_steps(48))
    assert alignment_weight(0, **dict(tuned.hparams.alignment or {})) == 0.0
