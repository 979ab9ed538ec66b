"""Image loading and the one preprocessing shared by validation and inference."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

if TYPE_CHECKING:
    from anpr.contract import PlateContract


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """Keep OpenCV's decoder warnings about corrupt files off the console: unreadable files are
    reported once, by us, with their names."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


class ImageReadError(ValueError):
    """An image file that OpenCV cannot decode."""


def read_image(path: str | Path) -> np.ndarray:
    """Decode any image file to 8-bit RGB (gray, RGBA and 16-bit are converted)."""
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    if data is None:
        raise ImageReadError(f"image not found: {path}")
    if data.size == 0:
        raise ImageReadError(f"image file is empty (0 bytes): {path}")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageReadError(f"cannot decode image (corrupt or not an image): {path}")
    return to_rgb8(image, assume_bgr=True)


def to_rgb8(image: np.ndarray, assume_bgr: bool = False) -> np.ndarray:
    """Any 2-D/3-D uint8 or uint16 array to HxWx3 uint8 RGB (BGR input is swapped if flagged)."""
    if image.dtype == np.uint16:
        image = (image / 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected a gray, RGB or RGBA image, got shape {image.shape}")
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB if assume_bgr else cv2.COLOR_RGBA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if assume_bgr else image


class Preprocessor:
    """Resize to the model's input size and normalize: the single definition both training
    (after augmentation) and inference use, so the two can never drift apart."""

    def __init__(self, contract: PlateContract) -> None:
        self.contract = contract
        self.image_height, self.image_width = contract.image_height, contract.image_width
        self.mean = np.asarray(contract.mean, dtype=np.float32) * 255.0
        self.std = np.asarray(contract.std, dtype=np.float32) * 255.0

    def resize(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        shrinking = height > self.image_height or width > self.image_width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(image, (self.image_width, self.image_height), interpolation=interpolation)

    def normalize(self, image: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB at model size to 3xHxW float32."""
        return ((image.astype(np.float32) - self.mean) / self.std).transpose(2, 0, 1)

    @staticmethod
    def to_chw_uint8(image: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB to 3xHxW uint8: what training batches carry (normalized on the device
        by :class:`DeviceNormalize`, a quarter of float32's bytes to collate, pin and copy)."""
        return np.ascontiguousarray(image.transpose(2, 0, 1))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.normalize(self.resize(image))


class DeviceNormalize(torch.nn.Module):
    """(B, 3, H, W) pixels to the normalized float32 input, on whatever device they are on.

    Takes uint8 (0-255) straight from the loaders, or float pixels in [0, 1] (after on-device
    augmentation). Loaders hand over uint8 so that workers skip the float conversion and the
    copy to the GPU moves 4x fewer bytes; the arithmetic is :meth:`Preprocessor.normalize`'s.
    """

    def __init__(self, contract: PlateContract) -> None:
        super().__init__()
        for name, values in (("mean", contract.mean), ("std", contract.std)):
            self.register_buffer(name, torch.tensor(values, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if pixels.dtype == torch.uint8:
            pixels = pixels.float() / 255.0
        elif not pixels.is_floating_point():
            raise TypeError(f"expected uint8 or float pixels, got {pixels.dtype}")
        return (pixels - self.mean) / self.std
