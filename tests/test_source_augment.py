"""Augmentation on each crop at its own size and aspect, before the resize to model size."""

from __future__ import annotations

import re
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
from helpers import TINY_CONTRACT, tiny_datamodule, write_rec_dataset

from anpr.charset import Charset
from anpr.config.compose import compose_train
from anpr.data.augment import Augmenter
from anpr.data.dataset import PlateDataset
from anpr.data.images import Preprocessor, read_image
from anpr.data.labels import read_labels


def square_plate_dataset(tmp_path, source_augment, centres=None) -> PlateDataset:
    """One near-square two-line crop (as an auto plate), 90 x 60 px."""
    images_dir, labels_file = write_rec_dataset(tmp_path, ["KL07AB1234"])
    crop = cv2.resize(cv2.imread(str(images_dir / "plate_0000.png")), (90, 60), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(images_dir / "plate_0000.png"), crop)
    records = read_labels(labels_file)
    return PlateDataset(
        records,
        images_dir,
        Charset(),
        Preprocessor(TINY_CONTRACT),
        char_centres=centres,
        source_augment=source_augment,
    )


def test_a_small_plate_at_the_source_keeps_its_aspect(tmp_path) -> None:
    """16 px high at the source is a 24 x 16 crop for a 3:2 plate, then resized to model size:
    not the same as shrinking the already-stretched model-size image to 16 px high."""
    to_16 = Augmenter([A.SmallestMaxSize(max_size=16, interpolation=cv2.INTER_AREA, p=1.0)])
    data = square_plate_dataset(tmp_path, to_16)
    source = read_image(data.images_dir / "plate_0000.png")
    expected = data.preprocessor.resize(cv2.resize(source, (24, 16), interpolation=cv2.INTER_AREA))
    image = data[0]["image"].permute(1, 2, 0).numpy()
    assert np.array_equal(image, expected)
    at_model_size = data.preprocessor.resize(source)
    height, width = at_model_size.shape[:2]
    shrunk = cv2.resize(at_model_size, (round(width * 16 / height), 16), interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - data.preprocessor.resize(shrunk).astype(int)).mean() > 2


def test_character_positions_move_with_a_source_transform(tmp_path) -> None:
    xs = np.linspace(0.1, 0.9, 10, dtype=np.float32)
    centres = {"plate_0000.png": np.stack([xs, np.full(10, 0.5, np.float32), np.zeros(10, np.float32)], 1)}
    # 90 px of padding on the left doubles the width: a centre at x moves to (x + 1) / 2
    pad_left = Augmenter([A.CropAndPad(px=(0, 0, 0, 90), keep_size=False, p=1.0)])
    sample = square_plate_dataset(tmp_path, pad_left, centres)[0]
    assert np.allclose(sample["char_x"].numpy(), (xs + 1) / 2, atol=1e-4)


def test_a_source_transform_without_positions_marks_them_unknown(tmp_path) -> None:
    xs = np.linspace(0.1, 0.9, 10, dtype=np.float32)
    centres = {"plate_0000.png": np.stack([xs, np.full(10, 0.5, np.float32), np.zeros(10, np.float32)], 1)}
    sample = square_plate_dataset(tmp_path, lambda image: image[:, ::-1].copy(), centres)[0]
    assert np.isnan(sample["char_x"].numpy()).all()


def test_source_transforms_refuse_the_in_memory_cache(rec_dataset) -> None:
    """The cache holds crops already at model size, where a source transform cannot act."""
    to_16 = [A.SmallestMaxSize(max_size=16, p=1.0)]
    with pytest.raises(ValueError, match="in_memory_cache.*source_transforms"):
        tiny_datamodule(*rec_dataset, in_memory_cache=True, source_augmentations=to_16)


def test_profiles_without_source_transforms_add_none_and_the_training_set_gets_them(rec_dataset) -> None:
    assert list(compose_train(["augmentation=detector"]).data.source_augmentations) == []
    datamodule = tiny_datamodule(*rec_dataset, source_augmentations=[A.SmallestMaxSize(max_size=16, p=1.0)])
    datamodule.setup()
    assert datamodule.train_set.source_augment is not None
    assert datamodule.val_set.source_augment is None  # validation reads crops as they are


def test_the_readme_profile_snippet_reaches_the_training_set(tmp_path, rec_dataset) -> None:
    """The `source_transforms` YAML the README shows, in a user's own profile folder."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```yaml\n(source_transforms:.*?)```", readme, re.S).group(1)
    (tmp_path / "augmentation").mkdir()
    (tmp_path / "augmentation" / "mine.yaml").write_text("transforms: []\n" + snippet)
    cfg = compose_train([f"hydra.searchpath=[file://{tmp_path}]", "augmentation=mine"])
    (transform,) = cfg.data.source_augmentations
    assert transform._target_ == "albumentations.SmallestMaxSize" and 16 in transform.max_size
    datamodule = tiny_datamodule(*rec_dataset, source_augmentations=cfg.data.source_augmentations)
    datamodule.setup()
    heights = {datamodule.train_set.source_augment(np.zeros((60, 240, 3), np.uint8)).shape[0] for _ in range(40)}
    assert heights - {60} and heights - {60} <= set(transform.max_size)  # some made small, to listed heights
