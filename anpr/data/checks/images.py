"""Checking one image file without training on it: existence, size, truncation, decodability, format.

Truncation is found from the file's tail (a JPEG must end with the EOI marker FFD9, a PNG with its
IEND chunk, BMP and WebP must be as long as their headers say), because a decoder may return an
image for a file that was cut short. With ``decode=True`` the image is also decoded by OpenCV, as
training will decode it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"

# (kind, message) pairs found for one image file
Finding = tuple[str, str]


@dataclass(frozen=True)
class ImageLimits:
    """Images smaller than this cannot be read as plates."""

    min_height: int = 8
    min_width: int = 16


def truncation(data: bytes) -> str | None:
    """Why the file looks cut short, or None."""
    if data.startswith(JPEG_SOI):
        if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            return "JPEG has no end-of-image marker (FFD9) at its end: the file is cut short"
    elif data.startswith(PNG_SIGNATURE):
        if b"IEND" not in data[-32:]:
            return "PNG has no IEND chunk at its end: the file is cut short"
    elif data.startswith(b"BM") and len(data) >= 6:
        declared = int.from_bytes(data[2:6], "little")
        if declared > len(data):
            return f"BMP header says {declared} bytes, the file has {len(data)}: the file is cut short"
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        declared = int.from_bytes(data[4:8], "little") + 8
        if declared > len(data):
            return f"WebP header says {declared} bytes, the file has {len(data)}: the file is cut short"
    return None


def header_facts(data: bytes) -> tuple[int, int, int, int]:
    """(height, width, channels, bits per channel) from the file header, without decoding pixels."""
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        depth, color_type = data[24], data[25]
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color_type, 3)
        return height, width, channels, depth
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        mode = image.mode
    channels = {"1": 1, "L": 1, "I": 1, "I;16": 1, "I;16B": 1, "I;16L": 1, "LA": 2, "RGBA": 4}.get(mode, 3)
    depth = 16 if mode.startswith("I") else 8
    return height, width, channels, depth


@dataclass(frozen=True)
class ImageFacts:
    """What the header (or a decode, when ``decoded``) says about a readable image."""

    height: int
    width: int
    channels: int
    depth: int  # bits per channel
    decoded: bool


def probe_image(path: str | Path, decode: bool = True) -> ImageFacts | Finding:
    """The facts of a readable image, or the (kind, message) of why it cannot be used."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return ("missing_image", f"image not found: {path}")
    except IsADirectoryError:
        return ("missing_image", f"image path is a folder: {path}")
    except OSError as err:
        return ("unreadable_image", f"cannot read {path}: {err.strerror or err}")
    if not data:
        return ("empty_image", f"image file is empty (0 bytes): {path}")
    cut = truncation(data)
    if cut:
        return ("truncated_image", f"{cut}: {path}")
    if decode:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None:
            return ("unreadable_image", f"cannot decode image (corrupt or not an image): {path}")
        channels = 1 if image.ndim == 2 else image.shape[2]
        return ImageFacts(image.shape[0], image.shape[1], channels, image.dtype.itemsize * 8, True)
    try:
        return ImageFacts(*header_facts(data), decoded=False)
    except Exception as err:  # PIL raises many types for a bad header
        return ("unreadable_image", f"cannot read the image header ({err}): {path}")


def facts_findings(facts: ImageFacts, path: str | Path, limits: ImageLimits = ImageLimits()) -> list[Finding]:
    """Findings about a readable image: too small (fatal), gray / alpha / 16-bit (warnings)."""
    findings: list[Finding] = []
    if facts.height < limits.min_height or facts.width < limits.min_width:
        findings.append(
            (
                "too_small",
                f"image is {facts.width}x{facts.height} px, smaller than the "
                f"{limits.min_width}x{limits.min_height} px minimum: {path}",
            )
        )
    if facts.channels in (1, 2):
        findings.append(("gray_image", f"grayscale image: {path}"))
    if facts.channels in (2, 4):
        findings.append(("rgba_image", f"image has an alpha channel: {path}"))
    if facts.depth > 8:
        findings.append(("16bit_image", f"{facts.depth}-bit image: {path}"))
    return findings


def inspect_image(path: str | Path, limits: ImageLimits = ImageLimits(), decode: bool = True) -> list[Finding]:
    """Everything wrong or notable about one image file, as (kind, message) pairs."""
    probed = probe_image(path, decode)
    return facts_findings(probed, path, limits) if isinstance(probed, ImageFacts) else [probed]
