"""Shared fixtures: tiny rec-format datasets drawn with OpenCV, and composed configs."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from anpr.config import CONF_DIR, register_resolvers

ROOT = Path(__file__).resolve().parents[1]
register_resolvers()


def draw_plate(text: str, height: int = 40, width: int = 160) -> np.ndarray:
    """A clean black-on-white plate image of ``text`` (BGR), enough to learn from in tests."""
    image = np.full((height, width, 3), 255, np.uint8)
    scale = 0.9 if len(text) <= 8 else 0.7
    cv2.putText(image, text, (4, height - 12), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
    return image


def write_rec_dataset(root: Path, texts: list[str], ext: str = ".png") -> tuple[Path, Path]:
    """Write ``root/images/*`` and ``root/labels.txt``; returns (images_dir, labels_file)."""
    images_dir = root / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(texts):
        name = f"plate_{i:04d}{ext}"
        cv2.imwrite(str(images_dir / name), draw_plate(text))
        lines.append(f"{name}\t{text}")
    labels_file = root / "labels.txt"
    labels_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return images_dir, labels_file


def random_plate_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    states = ["KL", "MH", "DL", "KA", "TN", "UP"]
    texts = []
    for _ in range(n):
        series = "".join(rng.choice(list(letters), size=rng.integers(1, 3)))
        texts.append(f"{rng.choice(states)}{rng.integers(1, 99):02d}{series}{rng.integers(0, 9999):04d}")
    return texts


@pytest.fixture
def rec_dataset(tmp_path: Path) -> tuple[Path, Path]:
    return write_rec_dataset(tmp_path / "rec", random_plate_texts(40))


TINY_MODEL = [
    "model.image_height=32",
    "model.image_width=128",
    "model.stem_channels=[8,16]",
    "model.stages=[{out_channels: 16, blocks: 1, stride: [2, 2]}, {out_channels: 24, blocks: 1, stride: [2, 1]}]",
    "model.neck_channels=24",
    "model.hidden_size=16",
    "model.pool_rows=1",
]


def compose_train(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=overrides, return_hydra_config=True)


def run_script(args: list[str], cwd: Path, timeout: int = 600):
    import subprocess

    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def train_args(images_dir: Path, labels_file: Path, run_dir: Path, *extra: str) -> list[str]:
    """scripts/train.py arguments for a tiny CPU run on a rec dataset, logging every step."""
    return [
        str(ROOT / "scripts" / "train.py"),
        "data=rec",
        f"data.images_dir={images_dir}",
        f"data.labels_file={labels_file}",
        "hardware=cpu",
        "preset=speed",
        "data.num_workers=0",
        "trainer.log_every_n_steps=1",
        f"hydra.run.dir={run_dir}",
        "callbacks.progress_bar=null",
        "callbacks.early_stopping=null",
        *TINY_MODEL,
        *extra,
    ]
