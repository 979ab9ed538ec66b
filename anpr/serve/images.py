"""Bytes from a client to RGB pixels, refusing what would hurt the server before decoding it.

Everything a request could use to exhaust memory is checked on the header: the format is sniffed
from the first bytes (GIF and other formats are refused), the size is read by Pillow without
decoding pixels (a 40,000 x 40,000 PNG of a few kilobytes never reaches OpenCV, which would
allocate gigabytes), and a cut-short JPEG/PNG is found from its tail, as ``anpr check`` finds it.
What passes is decoded exactly as ``anpr predict`` decodes a file, so both read the same pixels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from anpr.data.checks import ImageLimits
from anpr.data.checks.images import header_facts, truncation
from anpr.data.images import to_rgb8

# First bytes -> format name, for the formats OpenCV decodes for us and a few it must not get.
ACCEPTED = {"jpeg": "jpg", "png": "png", "bmp": "bmp", "webp": "webp"}  # format -> file extension
STATUS = {  # image problem kind -> the HTTP status a request answers with when no image was readable
    "empty_image": 400,
    "bad_base64": 400,
    "not_an_image": 415,
    "unsupported_format": 415,
    "too_many_pixels": 413,
    "truncated_image": 422,
    "too_small": 422,
    "undecodable_image": 422,
}


@dataclass(frozen=True)
class ImageProblem(Exception):
    """Why one image cannot be read; ``kind`` is a key of :data:`STATUS`."""

    kind: str
    message: str

    @property
    def status(self) -> int:
        return STATUS.get(self.kind, 422)

    def to_record(self) -> dict:
        return {"error": {"kind": self.kind, "message": self.message}}


def sniff_format(data: bytes) -> str | None:
    """The image format the first bytes announce (``jpeg``, ``png``, ``gif``, ...) or None."""
    signatures = (
        (b"\xff\xd8\xff", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"BM", "bmp"),
        (b"II*\x00", "tiff"),
        (b"MM\x00*", "tiff"),
        (b"%PDF", "pdf"),
    )
    for signature, name in signatures:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:12] in (b"ftypavif", b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "heif/avif"
    return None


def header_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone (the PNG header directly, others through Pillow,
    which reads no pixel data to answer)."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            height, width, _, _ = header_facts(data)
        except Image.DecompressionBombError as err:  # Pillow's own guard, far above ours
            raise ImageProblem("too_many_pixels", f"image is far too large to decode ({err})") from None
        except Exception as err:  # Pillow raises many types for a header it cannot parse
            raise ImageProblem("not_an_image", f"cannot read the image header ({type(err).__name__})") from None
    return width, height


def check_image(data: bytes, max_pixels: int, minimum: ImageLimits = ImageLimits()) -> str:
    """The file extension of an image that may be decoded; raises :class:`ImageProblem` otherwise."""
    if not data:
        raise ImageProblem("empty_image", "image is empty (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageProblem("not_an_image", "not an image (no JPEG, PNG, BMP or WebP signature in the first bytes)")
    if fmt not in ACCEPTED:
        raise ImageProblem("unsupported_format", f"{fmt.upper()} images are not read: send JPEG, PNG, BMP or WebP")
    width, height = header_size(data)
    if width * height > max_pixels:
        raise ImageProblem(
            "too_many_pixels",
            f"image is {width}x{height} px ({width * height:,} pixels), over the limit of {max_pixels:,}: "
            "send the plate crop, not the whole frame",
        )
    if height < minimum.min_height or width < minimum.min_width:
        raise ImageProblem(
            "too_small",
            f"image is {width}x{height} px, smaller than the {minimum.min_width}x{minimum.min_height} px "
            "a plate crop needs: crop the plate with some margin",
        )
    cut = truncation(data)
    if cut:
        raise ImageProblem("truncated_image", cut)
    return ACCEPTED[fmt]


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """HxWx3 uint8 RGB, decoded as :func:`anpr.data.images.read_image` decodes a file."""
    check_image(data, max_pixels)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageProblem("undecodable_image", "cannot decode the image (corrupt pixel data)")
    if image.shape[0] * image.shape[1] > max_pixels:  # a header that lied to Pillow but not to OpenCV
        raise ImageProblem("too_many_pixels", f"image decodes to {image.shape[1]}x{image.shape[0]} px, over the limit")
    try:
        return to_rgb8(image, assume_bgr=True)
    except ValueError as err:
        raise ImageProblem("undecodable_image", str(err)) from None
