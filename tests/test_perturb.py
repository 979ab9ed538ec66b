"""anpr perturb: deterministic perturbed copies of a labelled set, one folder per condition."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import random_plate_texts, write_rec_dataset

from anpr.cli.perturb import main as perturb_main
from anpr.evaluate.perturb import CONDITIONS, perturb_dataset


@pytest.fixture
def crops(tmp_path: Path) -> tuple[Path, Path, Path]:
    images_dir, labels_file = write_rec_dataset(tmp_path / "crops", random_plate_texts(5, seed=4), ext=".jpg")
    layouts = tmp_path / "crops" / "layout.tsv"
    layouts.write_text("".join(f"plate_{i:04d}.jpg\t{'two-line' if i % 2 else 'one-line'}\n" for i in range(5)))
    return images_dir, labels_file, layouts


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_condition_is_the_same_on_every_run_and_in_any_order(crops, tmp_path):
    images_dir, labels_file, layouts = crops
    conditions = list(CONDITIONS)
    first = perturb_dataset(images_dir, labels_file, tmp_path / "a", conditions, layouts)
    second = perturb_dataset(images_dir, labels_file, tmp_path / "b", conditions[::-1], layouts)
    assert [p.name for p in first] == conditions == [p.name for p in second][::-1]
    for folder in first:
        assert _files(folder) == _files(tmp_path / "b" / folder.name), folder.name
    other_seed = perturb_dataset(images_dir, labels_file, tmp_path / "c", ["loose", "night"], layouts, seed=1)
    assert all(_files(f) != _files(tmp_path / "a" / f.name) for f in other_seed)


def test_each_condition_does_what_it_names(crops, tmp_path):
    images_dir, labels_file, layouts = crops
    perturb_dataset(images_dir, labels_file, tmp_path / "p", list(CONDITIONS), layouts)
    clean = cv2.imread(str(images_dir / "plate_0000.jpg"))
    h, w = clean.shape[:2]

    def out(condition: str) -> np.ndarray:
        return cv2.imread(str(tmp_path / "p" / condition / "images" / "plate_0000.png"))

    pad = round(0.3 * h)
    loose = out("loose")
    assert loose.shape[:2] == (h + 2 * pad, w + 2 * pad)
    assert np.array_equal(loose[pad : pad + h, pad : pad + w], clean)  # the plate itself untouched
    cut = out("cut").shape
    assert 0.84 * h <= cut[0] <= 0.92 * h + 1 and 0.84 * w <= cut[1] <= 0.92 * w + 1
    assert out("small16").shape[0] == 16 and out("rotate7").shape == clean.shape
    assert out("night").mean() < 0.5 * clean.mean()
    blurred = out("motion4").astype(np.float32)
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(clean.astype(np.float32), axis=1)).mean()
    labels = (tmp_path / "p" / "jpeg12" / "labels.txt").read_text().splitlines()
    assert labels[0].split("\t")[0] == "plate_0000.png" and len(labels) == 5
    assert (tmp_path / "p" / "jpeg12" / "layout.tsv").read_text().splitlines()[1] == "plate_0001.png\ttwo-line"


def _perturb_command(images_dir: Path, labels_file: Path, out: Path, *conditions: str) -> int:
    args = ["--images-dir", str(images_dir), "--labels-file", str(labels_file), "--out", str(out)]
    return perturb_main([*args, "--conditions", *conditions])


def test_command_writes_the_chosen_conditions_and_names_a_missing_image(crops, tmp_path, capsys):
    images_dir, labels_file, _ = crops
    assert _perturb_command(images_dir, labels_file, tmp_path / "o", "cut", "small16") == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["cut", "small16"]
    (images_dir / "plate_0003.jpg").unlink()
    assert _perturb_command(images_dir, labels_file, tmp_path / "x", "cut") == 2
    err = capsys.readouterr().err
    assert "plate_0003.jpg" in err and "labels.txt:4" in err
