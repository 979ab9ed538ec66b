"""The rec-format plate dataset: labelled crops read with OpenCV, never substituted or altered."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from anpr.charset import Charset, UnknownCharacterError
from anpr.data.images import ImageReadError, Preprocessor, read_image
from anpr.data.labels import DatasetError, LabelRecord

Augment = Callable[[np.ndarray], np.ndarray]


class PlateDataset(Dataset):
    """Labelled plate crops; every label is encoded and every image path checked up front.

    Args:
        records: labelled images (from :func:`read_labels`), relative to ``images_dir``.
        images_dir: folder the image names are relative to.
        charset: the model's alphabet; a label with any other character is an error.
        preprocessor: resize + normalize to the model input.
        augment: optional uint8 RGB -> uint8 RGB transform applied at model size.
        source_augment: optional transform applied before the resize, to the crop at its own
            size and aspect, as a detector sees the plate: a plate made 16 px high there keeps
            its characters' proportions (a two-line plate is then about 25 px wide), which no
            transform at the fixed model size can imitate.
        layouts: optional image name -> 'one-line'/'two-line', for per-layout metrics.
        char_centres: optional image name -> (N, 3) character centres (x, y, line) as fractions
            of the image size (:mod:`anpr.data.char_centres`), moved with the augmentation and
            handed to training as ``char_x``/``char_line`` (NaN x where unknown).
    """

    def __init__(
        self,
        records: Sequence[LabelRecord],
        images_dir: str | Path,
        charset: Charset,
        preprocessor: Preprocessor,
        augment: Augment | None = None,
        layouts: Mapping[str, str] | None = None,
        char_centres: Mapping[str, np.ndarray] | None = None,
        source_augment: Augment | None = None,
    ) -> None:
        self.records = list(records)
        self.images_dir = Path(images_dir)
        self.preprocessor = preprocessor
        self.augment = augment
        self.source_augment = source_augment
        self.layouts = dict(layouts or {})
        self.targets = [_encode(charset, r) for r in self.records]
        self.char_centres = dict(char_centres or {})
        for record, target in zip(self.records, self.targets):
            centres = self.char_centres.get(record.image_name)
            if centres is not None and len(centres) != len(target):
                raise DatasetError(
                    f"{record.where}: {len(centres)} character positions for the {len(target)}-character "
                    f"label {record.text!r}: the positions file belongs to other labels"
                )
        missing = [r for r in self.records if not (self.images_dir / r.image_name).is_file()]
        if missing:
            listed = "\n".join(f"  {r.where}: {self.images_dir / r.image_name}" for r in missing[:10])
            more = f"\n  ... and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise DatasetError(
                f"{len(missing)} image(s) named in the labels file do not exist:\n{listed}{more}\n"
                f"Check data.images_dir (names are relative to it) or fix the labels file."
            )

    def __len__(self) -> int:
        return len(self.records)

    def load_rgb(self, index: int) -> np.ndarray:
        """The raw image of sample ``index`` as uint8 RGB; a bad file raises naming its line."""
        record = self.records[index]
        try:
            return read_image(self.images_dir / record.image_name)
        except ImageReadError as err:
            raise DatasetError(f"{record.where}: {err}. Remove this line or replace the file.") from err

    def __getitem__(self, index: int) -> dict:
        image = self.load_rgb(index)
        length = len(self.targets[index])
        centres = self.char_centres.get(self.records[index].image_name)
        if self.source_augment is not None:
            image, centres = _augment_at_source(self.source_augment, image, centres)
        image = self.preprocessor.resize(image)
        char_x = np.full(length, np.nan, np.float32)
        char_line = np.zeros(length, np.int64)
        if centres is not None:
            char_x, char_line = centres[:, 0].copy(), centres[:, 2].astype(np.int64)
        if self.augment is not None and centres is not None and hasattr(self.augment, "with_points"):
            height, width = image.shape[:2]
            image, points = self.augment.with_points(image, centres[:, :2] * np.float32([width, height]))
            char_x = (points[:, 0] / width).astype(np.float32)
        elif self.augment is not None:
            image = self.augment(image)
            char_x[:] = np.nan  # moved by an augmentation that cannot say where to
        return {
            "image": torch.from_numpy(self.preprocessor.to_chw_uint8(image)),  # normalized on the device
            "target": torch.tensor(self.targets[index], dtype=torch.long),
            "text": self.records[index].text,
            "index": index,
            "layout": self.layouts.get(self.records[index].image_name, ""),
            "char_x": torch.from_numpy(char_x),
            "char_line": torch.from_numpy(char_line),
        }


def _augment_at_source(
    augment: Augment, image: np.ndarray, centres: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``augment`` applied to the crop at its own size; centres (fractions) moved with it, or
    None (positions unknown) where the augmentation cannot say where they went."""
    if centres is None or not hasattr(augment, "with_points"):
        return augment(image), None
    height, width = image.shape[:2]
    out, points = augment.with_points(image, centres[:, :2] * np.float32([width, height]))
    moved = centres.copy()
    moved[:, :2] = points / np.float32([out.shape[1], out.shape[0]])
    return out, moved


def collate_plates(samples: list[dict]) -> dict:
    """Stack images; concatenate CTC targets with their lengths."""
    return {
        "images": torch.stack([s["image"] for s in samples]),
        "targets": torch.cat([s["target"] for s in samples]),
        "target_lengths": torch.tensor([len(s["target"]) for s in samples], dtype=torch.long),
        "texts": [s["text"] for s in samples],
        "indices": torch.tensor([s["index"] for s in samples], dtype=torch.long),
        "layouts": [s["layout"] for s in samples],
        # aligned with targets; a sample built without positions has none (NaN)
        "char_x": torch.cat([s.get("char_x", torch.full((len(s["target"]),), float("nan"))) for s in samples]),
        "char_line": torch.cat([s.get("char_line", torch.zeros(len(s["target"]), dtype=torch.long)) for s in samples]),
    }


def _encode(charset: Charset, record: LabelRecord) -> list[int]:
    if not record.text:
        raise DatasetError(f"{record.where}: empty label for {record.image_name}")
    try:
        return charset.encode(record.text)
    except UnknownCharacterError as err:
        raise DatasetError(
            f"{record.where}: {err}. Labels must use only {charset.characters!r}; "
            f"fix the labels file (characters are never dropped silently)."
        ) from err
