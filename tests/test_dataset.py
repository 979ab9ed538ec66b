"""The rec-format dataset on tiny generated data, and its errors on bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from helpers import TINY_CONTRACT, random_plate_texts, tiny_datamodule, write_rec_dataset

from anpr.charset import Charset
from anpr.data import DatasetError, PlateDataset, collate_plates, read_labels
from anpr.data.images import Preprocessor


def make_dataset(images_dir: Path, labels_file: Path) -> PlateDataset:
    return PlateDataset(read_labels(labels_file), images_dir, Charset(), Preprocessor(TINY_CONTRACT))


def test_dataset_reads_images_and_encodes_labels(rec_dataset) -> None:
    dataset = make_dataset(*rec_dataset)
    sample = dataset[3]
    # Raw pixels, CHW: the model normalizes them on its device (DeviceNormalize).
    assert sample["image"].shape == (3, 32, 128) and sample["image"].dtype == torch.uint8
    assert Charset().decode_indices(sample["target"].tolist()) == sample["text"]
    batch = collate_plates([dataset[i] for i in range(4)])
    assert batch["images"].shape == (4, 3, 32, 128)
    assert int(batch["target_lengths"].sum()) == len(batch["targets"])


def test_missing_image_names_file_and_line(rec_dataset) -> None:
    images_dir, labels_file = rec_dataset
    (images_dir / "plate_0005.png").unlink()
    with pytest.raises(DatasetError, match=r"labels\.txt:6") as err:
        make_dataset(images_dir, labels_file)
    assert "plate_0005.png" in str(err.value)


def test_unreadable_image_is_an_error_not_a_substitute(rec_dataset) -> None:
    images_dir, labels_file = rec_dataset
    (images_dir / "plate_0002.png").write_bytes(b"this is not an image")
    dataset = make_dataset(images_dir, labels_file)
    with pytest.raises(DatasetError, match=r"labels\.txt:3.*plate_0002\.png"):
        dataset[2]


def test_label_outside_charset_names_file_and_line(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path, ["KL07AB1234", "MH-12", "DL4CAF1234"])
    with pytest.raises(DatasetError, match=r"labels\.txt:2.*'-'"):
        make_dataset(images_dir, labels_file)


def test_line_without_tab_names_file_and_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("a.png\tKL07AB1234\nb.png KL07AB1234\n")
    with pytest.raises(DatasetError, match=r"labels\.txt:2.*no tab"):
        read_labels(labels)


def test_gray_and_16_bit_images_are_converted(tmp_path: Path) -> None:
    images_dir = tmp_path / "images"
    images_dir.mkdir()
    cv2.imwrite(str(images_dir / "gray.png"), np.full((20, 80), 128, np.uint8))
    cv2.imwrite(str(images_dir / "deep.png"), np.full((20, 80, 3), 60000, np.uint16))
    (tmp_path / "labels.txt").write_text("gray.png\tAB12\ndeep.png\tCD34\n")
    dataset = make_dataset(images_dir, tmp_path / "labels.txt")
    assert dataset[0]["image"].shape == dataset[1]["image"].shape == (3, 32, 128)


def test_split_is_deterministic_and_respects_sample_limit(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path, random_plate_texts(100))

    def split(seed: int, limit=None):
        dm = tiny_datamodule(images_dir, labels_file, split_seed=seed, max_samples=limit)
        train, val = dm.split_records()
        return [r.line_number for r in train], [r.line_number for r in val]

    train, val = split(1)
    assert len(val) == 15 and len(train) == 85 and not set(train) & set(val)
    assert split(1) == (train, val)
    assert split(2) != (train, val)
    limited_train, limited_val = split(1, limit=40)
    assert len(limited_train) + len(limited_val) == 40 and len(limited_val) == 6


def test_explicit_validation_file_is_used_whole(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "train", random_plate_texts(20))
    val_dir, val_labels = write_rec_dataset(tmp_path / "val", random_plate_texts(7, seed=5))
    dm = tiny_datamodule(images_dir, labels_file, val_images_dir=str(val_dir), val_labels_file=str(val_labels))
    dm.setup("fit")
    assert len(dm.train_set) == 20 and len(dm.val_set) == 7
    assert dm.val_set[0]["text"] == read_labels(val_labels)[0].text


def test_device_normalize_matches_the_inference_preprocessing(rec_dataset) -> None:
    from anpr.data.images import DeviceNormalize

    dataset = make_dataset(*rec_dataset)
    pre = dataset.preprocessor
    image = pre.resize(dataset.load_rgb(2))
    on_device = DeviceNormalize(pre.contract)(torch.from_numpy(pre.to_chw_uint8(image))[None])
    assert torch.allclose(on_device[0], torch.from_numpy(pre.normalize(image)), atol=1e-5)
    as_floats = torch.from_numpy(pre.to_chw_uint8(image))[None].float() / 255  # after device augmentation
    assert torch.allclose(DeviceNormalize(pre.contract)(as_floats), on_device)
    with pytest.raises(TypeError, match="uint8 or float"):
        DeviceNormalize(pre.contract)(torch.zeros(1, 3, 2, 2, dtype=torch.int32))


def test_loader_workers_deliver_batches_from_the_in_memory_cache(rec_dataset) -> None:
    """Forked workers after the parent decoded the cache with threads: a hang here (e.g. from
    reconfiguring OpenCV's thread pool inside a worker) fails the test instead of stalling it."""
    import signal

    images_dir, labels_file = rec_dataset
    datamodule = tiny_datamodule(images_dir, labels_file, num_workers=1, batch_size=4, in_memory_cache=True)
    datamodule.setup()
    # Decoding real crops runs OpenCV's thread pool in this process before the workers fork.
    cv2.resize(np.zeros((1500, 1500, 3), np.uint8), (700, 700), interpolation=cv2.INTER_AREA)

    def hung(*_):
        raise TimeoutError("the loader workers did not deliver a batch within 60 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        batch = next(iter(datamodule.train_dataloader()))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert batch["images"].shape == (4, 3, 32, 128) and batch["images"].dtype == torch.uint8


def test_a_temp_folder_too_long_for_sockets_loads_in_the_training_process(monkeypatch, caplog) -> None:
    import multiprocessing.util

    from anpr.data.workers import usable_workers

    monkeypatch.setattr(multiprocessing.util, "get_temp_dir", lambda: "/tmp/pymp-short")
    assert usable_workers(2) == 2 and not caplog.records
    monkeypatch.setattr(multiprocessing.util, "get_temp_dir", lambda: "/tmp/" + "x" * 90 + "/pymp-abc")
    with caplog.at_level("WARNING"):
        assert usable_workers(2) == 0 and usable_workers(0) == 0
    assert "too long" in caplog.text and "x" * 90 in caplog.text


def test_auto_memory_cache_weighs_the_crops_against_the_memory_available() -> None:
    from anpr.data.cache import cache_fits

    crops_bytes = 30_000 * 48 * 192 * 3  # the demo's plates: 830 MB
    assert cache_fits(30_000, 48, 192, available=4 * crops_bytes)[0]
    assert not cache_fits(30_000, 48, 192, available=4 * crops_bytes - 1)[0]
    assert not cache_fits(30_000, 48, 192, processes=2, available=4 * crops_bytes)[0]  # DDP: one cache each


def test_auto_memory_cache_caches_a_small_set_and_refuses_an_unknown_setting(rec_dataset) -> None:
    from anpr.data.cache import CachedPlateDataset
    from anpr.errors import ConfigError

    images_dir, labels_file = rec_dataset
    datamodule = tiny_datamodule(images_dir, labels_file, batch_size=4, in_memory_cache="auto")
    datamodule.setup("fit")
    assert isinstance(datamodule.train_set, CachedPlateDataset)  # a few crops always fit
    with pytest.raises(ConfigError, match="true, false or auto"):
        tiny_datamodule(images_dir, labels_file, in_memory_cache="yes")
