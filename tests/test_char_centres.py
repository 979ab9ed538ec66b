"""Character positions reach training: read from chars.tsv, moved with the augmentation."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
from helpers import TINY_CONTRACT, write_rec_dataset

from anpr.charset import Charset
from anpr.data.augment import Augmenter
from anpr.data.char_centres import format_centres, read_centres
from anpr.data.dataset import PlateDataset, collate_plates
from anpr.data.images import Preprocessor
from anpr.data.labels import DatasetError, read_labels


def test_positions_round_trip_and_a_plate_without_them_is_left_out(tmp_path) -> None:
    path = tmp_path / "chars.tsv"
    centres = np.array([[0.1, 0.5, 0], [0.25, 0.5, 0], [0.6, 0.75, 1]], np.float32)
    path.write_text(format_centres("a.jpg", centres) + format_centres("b.jpg", None))
    read = read_centres(path)
    assert list(read) == ["a.jpg"] and np.allclose(read["a.jpg"], centres)
    path.write_text("a.jpg\t0.1,0.5\n")
    with pytest.raises(DatasetError, match="chars.tsv:1"):
        read_centres(path)


def dataset(tmp_path, centres, augment=None) -> PlateDataset:
    images_dir, labels_file = write_rec_dataset(tmp_path, ["KL07AB1234", "MH12DE"])
    records = read_labels(labels_file)
    return PlateDataset(records, images_dir, Charset(), Preprocessor(TINY_CONTRACT), augment, char_centres=centres)


def test_positions_move_with_the_augmentation_and_line_up_with_the_targets(tmp_path) -> None:
    xs = np.linspace(0.1, 0.9, 10, dtype=np.float32)
    centres = {"plate_0000.png": np.stack([xs, np.full(10, 0.5, np.float32), np.zeros(10, np.float32)], 1)}
    shift = Augmenter([A.Affine(translate_px={"x": 16, "y": 0}, p=1.0)])
    data = dataset(tmp_path, centres, shift)
    moved = data[0]
    assert np.allclose(moved["char_x"].numpy(), xs + 16 / 128, atol=1e-4)
    batch = collate_plates([data[0], data[1]])
    assert batch["char_x"].shape == batch["targets"].shape == (16,)
    assert np.isnan(batch["char_x"][10:].numpy()).all()  # the second plate has no positions


def test_positions_that_do_not_match_the_label_are_refused(tmp_path) -> None:
    with pytest.raises(DatasetError, match="3 character positions for the 10-character"):
        dataset(tmp_path, {"plate_0000.png": np.zeros((3, 3), np.float32)})


def test_samples_built_without_positions_collate_as_unknown() -> None:
    import torch

    samples = [
        {
            "image": torch.zeros(3, 4, 4, dtype=torch.uint8),
            "target": torch.tensor([1, 2, 3]),
            "text": "ABC",
            "index": 0,
            "layout": "",
        }
    ]
    batch = collate_plates(samples)
    assert batch["char_x"].shape == (3,) and torch.isnan(batch["char_x"]).all()
    assert batch["char_line"].tolist() == [0, 0, 0]
