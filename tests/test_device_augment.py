"""Augmentation on the training device: uint8 batches in, augmented only in training steps."""

from __future__ import annotations

import torch
from conftest import TINY_MODEL, compose_train
from omegaconf import OmegaConf

from anpr.data import PlateDataModule
from anpr.training import build_module


def tiny_module(rec_dataset, augmentation: str):
    images_dir, labels_file = rec_dataset
    cfg = compose_train(TINY_MODEL + [
        "data=rec", f"data.images_dir={images_dir}", f"data.labels_file={labels_file}",
        f"augmentation={augmentation}", "data.num_workers=0",
    ])
    datamodule = PlateDataModule(str(images_dir), str(labels_file), image_height=32, image_width=128,
                                 augmentations=OmegaConf.to_container(cfg.augmentation.transforms))
    datamodule.setup()
    return build_module(cfg, datamodule), datamodule


def test_seed_on_device_moves_every_augmentation_off_the_loaders(rec_dataset) -> None:
    module, datamodule = tiny_module(rec_dataset, "seed_on_device")
    assert datamodule.train_set.augment is None  # the loader workers only slice crops
    assert module.device_augment is not None
    names = [type(t).__name__ for t in module.device_augment.transforms.children()]
    assert names[:2] == ["RandomAffine", "RandomPerspective"] and len(names) == 7


def test_device_augmentation_applies_to_training_batches_only(rec_dataset) -> None:
    module, datamodule = tiny_module(rec_dataset, "seed_on_device")
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
    module, datamodule = tiny_module(rec_dataset, "seed")
    assert module.device_augment is None and datamodule.train_set.augment is not None
    batch = next(iter(datamodule.val_dataloader()))
    assert torch.equal(module.model_input(batch["images"], augment=True), module.model_input(batch["images"]))
