"""Augmentation on the training device: uint8 batches in, augmented only in training steps."""

from __future__ import annotations

import torch
from helpers import TINY_MODEL, compose_train

from anpr.config.compose import run_settings
from anpr.config.contract import contract_from_config
from anpr.train.run import build_data, build_module


def configured_module(rec_dataset, augmentation: str):
    """The module and data module as training builds them with ``augmentation``."""
    images_dir, labels_file = rec_dataset
    cfg = compose_train(
        TINY_MODEL
        + [
            "data=rec",
            f"data.images_dir={images_dir}",
            f"data.labels_file={labels_file}",
            f"augmentation={augmentation}",
            "data.num_workers=0",
        ]
    )
    contract = contract_from_config(cfg)
    datamodule = build_data(cfg, contract)
    datamodule.setup()
    return build_module(run_settings(cfg), contract), datamodule


def test_seed_on_device_moves_every_augmentation_off_the_loaders(rec_dataset) -> None:
    module, datamodule = configured_module(rec_dataset, "seed_on_device")
    assert datamodule.train_set.augment is None  # the loader workers only slice crops
    assert module.device_augment is not None
    names = [type(t).__name__ for t in module.device_augment.transforms.children()]
    assert names[:2] == ["RandomAffine", "RandomPerspective"] and len(names) == 7


def test_device_augmentation_applies_to_training_batches_only(rec_dataset) -> None:
    module, datamodule = configured_module(rec_dataset, "seed_on_device")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["images"].dtype == torch.uint8
    torch.manual_seed(0)
    plain = module.model_input(batch["images"])
    augmented = module.model_input(batch["images"], augment=True)
    assert plain.shape == augmented.shape and augmented.dtype == torch.float32
    assert not torch.allclose(plain, augmented)  # 7 transforms over a batch: some fire
    # Validation and inference inputs are never augmented: the same batch, the same input.
    assert torch.equal(module.model_input(batch["images"]), plain)
    # Kornia's sampling ranges are config, not weights: checkpoints carry the network only.
    assert not any(key.startswith("device_augment") for key in module.state_dict())


def test_cpu_augmentation_leaves_the_device_alone(rec_dataset) -> None:
    module, datamodule = configured_module(rec_dataset, "seed")
    assert module.device_augment is None and datamodule.train_set.augment is not None
    batch = next(iter(datamodule.val_dataloader()))
    assert torch.equal(module.model_input(batch["images"], augment=True), module.model_input(batch["images"]))
