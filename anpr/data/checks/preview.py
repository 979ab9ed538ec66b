"""A contact sheet of samples as the model sees them: resized to the input size, then augmented,
so that ``--show`` catches a wrong label, crop or augmentation before training does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr.charset import Charset, min_ctc_steps
from anpr.data.augment import Augmenter
from anpr.data.images import Preprocessor, read_image
from anpr.data.labels import LabelRecord

CAPTION_HEIGHT = 18
GAP = 6
FONT, FONT_SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.4


@dataclass(frozen=True)
class ShownSample:
    record: LabelRecord
    encoded_length: int
    ctc_steps: int
    image: np.ndarray  # uint8 RGB at model size, augmented


def load_augmenter(path: str | Path) -> Augmenter | None:
    """The Augmenter of an augmentation config file (``transforms: [...]``); None when empty."""
    from omegaconf import OmegaConf

    transforms = OmegaConf.load(str(path)).get("transforms") or []
    return Augmenter(list(transforms)) if transforms else None


def prepare_samples(
    records: Sequence[LabelRecord],
    images_dir: str | Path,
    charset: Charset,
    preprocessor: Preprocessor,
    augmenter: Augmenter | None,
) -> list[ShownSample]:
    """Each record's image as training feeds it to the model (before normalisation), with the
    encoded label length and the CTC time steps the label needs."""
    samples = []
    for record in records:
        image = preprocessor.resize(read_image(Path(images_dir) / record.image_name))
        if augmenter is not None:
            image = augmenter(image)
        samples.append(ShownSample(record, len(charset.encode(record.text)), min_ctc_steps(record.text), image))
    return samples


def contact_sheet(samples: Sequence[ShownSample], columns: int = 4, time_steps: int | None = None) -> np.ndarray:
    """One RGB image: every sample with its line number, label and encoded length underneath."""
    if not samples:
        raise ValueError("no samples to show")
    captions = [_caption(s, time_steps) for s in samples]
    height, width = samples[0].image.shape[:2]
    width = max([width] + [cv2.getTextSize(c, FONT, FONT_SCALE, 1)[0][0] for c in captions])
    columns = max(1, min(columns, len(samples)))
    rows = (len(samples) + columns - 1) // columns
    cell_h, cell_w = height + CAPTION_HEIGHT + GAP, width + GAP
    sheet = np.full((rows * cell_h + GAP, columns * cell_w + GAP, 3), 225, np.uint8)
    for i, (sample, caption) in enumerate(zip(samples, captions)):
        y, x = GAP + (i // columns) * cell_h, GAP + (i % columns) * cell_w
        h, w = sample.image.shape[:2]
        sheet[y : y + h, x : x + w] = sample.image
        cv2.putText(sheet, caption, (x, y + h + CAPTION_HEIGHT - 5), FONT, FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return sheet


def _caption(sample: ShownSample, time_steps: int | None) -> str:
    steps = f"/{time_steps}" if time_steps else ""
    label = sample.record.text if len(sample.record.text) <= 16 else sample.record.text[:15] + "~"
    text = f"line {sample.record.line_number}: {label}  len {sample.encoded_length}  ctc {sample.ctc_steps}{steps}"
    return text.encode("ascii", "replace").decode()


def write_png(image_rgb: np.ndarray, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(data.tobytes())
    return path
