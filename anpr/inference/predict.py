"""Reading many image files in batches, turning every failure into a record instead of a crash."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from anpr.data.checks import ImageLimits
from anpr.data.images import ImageReadError, read_image
from anpr.inference.reader import PlateReader
from anpr.inference.sources import Input


def predict_files(
    reader: PlateReader,
    inputs: Sequence[Input],
    batch_size: int = 32,
    on_progress: Callable[[int], Any] | None = None,
    min_confidence: float | None = None,
) -> Iterator[dict[str, Any]]:
    """One record per input, in input order.

    A read plate is ``{"path", "text", "confidence", "valid_format", "review"}`` (plus
    ``free_text`` when the grammar changed the reading, and ``alternatives``: the n best valid
    readings with their probabilities); ``review`` is true when the confidence is below
    ``min_confidence``. Anything that failed (no such file, undecodable image, ...) is
    ``{"path", "error"}``. ``on_progress(n)`` is called after each batch with the number of
    inputs it handled.
    """
    for start in range(0, len(inputs), max(1, batch_size)):
        chunk = inputs[start : start + batch_size]
        records: list[dict[str, Any] | None] = [None] * len(chunk)
        images, slots = [], []
        for i, item in enumerate(chunk):
            if item.error:
                records[i] = {"path": item.path, "error": item.error}
                continue
            try:
                image = read_image(item.path)
            except (ImageReadError, OSError, ValueError) as err:
                records[i] = {"path": item.path, "error": str(err)}
                continue
            too_small = size_problem(image)
            if too_small:
                records[i] = {"path": item.path, "error": too_small}
                continue
            images.append(image)
            slots.append(i)
        if images:
            reads = reader.read(images, rgb=True, batch_size=len(images), min_confidence=min_confidence)
            for i, plate in zip(slots, reads):
                records[i] = {"path": chunk[i].path, **plate.to_record()}
        if on_progress is not None:
            on_progress(len(chunk))
        yield from records  # type: ignore[misc]


def size_problem(image, limits: ImageLimits = ImageLimits()) -> str | None:
    """Why an image is too small to be a plate crop (the dataset checker's minimum), or None."""
    height, width = image.shape[:2]
    if height < limits.min_height or width < limits.min_width:
        return (
            f"image is {width}x{height} px, smaller than the {limits.min_width}x{limits.min_height} px "
            "a plate crop needs: crop the plate with some margin"
        )
    return None
