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
from anpr.data.sheets import captioned_grid, write_png  # noqa: F401 (write_png: re-exported for --show)

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
    return captioned_grid(
        [s.image for s in samples],
        captions,
        columns,
        caption_height=18,
        font_scale=0.4,
        gap=3,
        background=225,
        widen_to_captions=True,
    )


def _caption(sample: ShownSample, time_steps: int | None) -> str:
    steps = f"/{time_steps}" if time_steps else ""
    label = sample.record.text if len(sample.record.text) <= 16 else sample.record.text[:15] + "~"
    text = f"line {sample.record.line_number}: {label}  len {sample.encoded_length}  ctc {sample.ctc_steps}{steps}"
    return text.encode("ascii", "replace").decode()
