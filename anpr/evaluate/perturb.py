"""What a plate detector hands over: deterministic perturbed copies of a labelled crop set.

Real deployments read crops cut by a detector (YOLO and the like), not by hand: boxes too loose or
too tight, tilted, small, blurred by a moving vehicle, heavily compressed, shot at night. Each
condition here turns a clean labelled set into a perturbed copy of it, so accuracy can be
reported per condition next to the clean crops. Conditions are seeded per image (same output on
every run and machine) and never meant for training.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from anpr.data.labels import read_labels

Perturbation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def loose_box(image: np.ndarray, rng: np.random.Generator, margin: float = 0.3) -> np.ndarray:
    """A box 30% of the plate height larger on every side; the surroundings are the crop's own
    edge colours, smeared and blurred as out-of-focus car body (never copies of its characters)."""
    h, w = image.shape[:2]
    pad = max(1, round(margin * h))
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(padded, (0, 0), max(1.0, pad / 2))
    shade = rng.uniform(0.55, 0.9)
    out = np.clip(blurred.astype(np.float32) * shade + rng.normal(0, 4, blurred.shape), 0, 255).astype(np.uint8)
    out[pad : pad + h, pad : pad + w] = image
    return out


def cut_box(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A box cutting 4-8% into the plate on every side."""
    h, w = image.shape[:2]
    top, bottom = (round(f * h) for f in rng.uniform(0.04, 0.08, 2))
    left, right = (round(f * w) for f in rng.uniform(0.04, 0.08, 2))
    return image[top : h - bottom, left : w - right]


def rotated(image: np.ndarray, rng: np.random.Generator, degrees: float = 7.0) -> np.ndarray:
    """Turned by 7 degrees either way about the centre, edges replicated, same size."""
    h, w = image.shape[:2]
    angle = degrees if rng.random() < 0.5 else -degrees
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def jpeg(image: np.ndarray, rng: np.random.Generator, quality: int = 12) -> np.ndarray:
    """Re-encoded as JPEG at quality 12 (heavy blocking, as from a loaded video encoder)."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buffer, cv2.IMREAD_COLOR)


def night(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark, gamma-crushed and noisy: an under-exposed night frame with sensor noise."""
    dark = (image.astype(np.float32) / 255) ** 1.8 * 255 * 0.35
    noisy = dark + rng.normal(0, 6, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def small(image: np.ndarray, rng: np.random.Generator, height: int = 16) -> np.ndarray:
    """The plate 16 pixels high (aspect kept), as a distant plate in a wide camera view."""
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def motion_blur(image: np.ndarray, rng: np.random.Generator, fraction: float = 0.04) -> np.ndarray:
    """Horizontal motion blur across 4% of the plate width (a vehicle moving past)."""
    length = max(3, round(fraction * image.shape[1]) | 1)
    kernel = np.full((1, length), 1.0 / length, np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)


CONDITIONS: dict[str, Perturbation] = {
    "loose": loose_box,
    "cut": cut_box,
    "rotate7": rotated,
    "jpeg12": jpeg,
    "night": night,
    "small16": small,
    "motion4": motion_blur,
}


def image_rng(condition: str, name: str, seed: int = 0) -> np.random.Generator:
    """The same generator for an image and condition on every run, in any order."""
    return np.random.default_rng([seed, zlib.crc32(condition.encode()), zlib.crc32(name.encode())])


def perturb_dataset(
    images_dir: str | Path,
    labels_file: str | Path,
    out_dir: str | Path,
    conditions: list[str],
    layouts_file: str | Path | None = None,
    seed: int = 0,
) -> list[Path]:
    """Write ``out_dir/<condition>/`` (images/, labels.txt and layout.tsv copied) for each condition."""
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; choose from {sorted(CONDITIONS)}")
    records = read_labels(labels_file)
    written = []
    for condition in conditions:
        target = Path(out_dir) / condition
        (target / "images").mkdir(parents=True, exist_ok=True)
        for record in records:
            source = Path(images_dir) / record.image_name
            image = cv2.imread(str(source), cv2.IMREAD_COLOR)
            if image is None:
                raise OSError(f"{source}: cannot decode image ({record.where})")
            out = CONDITIONS[condition](image, image_rng(condition, record.image_name, seed))
            destination = target / "images" / Path(record.image_name).with_suffix(".png")
            destination.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(destination), out):
                raise OSError(f"could not write {destination}")
        (target / "labels.txt").write_text(
            "".join(f"{Path(r.image_name).with_suffix('.png').as_posix()}\t{r.text}\n" for r in records)
        )
        if layouts_file:
            lines = Path(layouts_file).read_text(encoding="utf-8").splitlines()
            (target / "layout.tsv").write_text(
                "".join(
                    f"{Path(name).with_suffix('.png').as_posix()}\t{rest}\n"
                    for name, _, rest in (line.partition("\t") for line in lines if line.strip())
                )
            )
        written.append(target)
    return written
