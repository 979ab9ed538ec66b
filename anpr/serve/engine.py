"""The reader behind the queue: image bytes in, ``anpr predict --json`` records out.

Each batch is read as :meth:`PlateReader.read` reads (``prepare`` each crop, then
``read_prepared``: one model call, decoding and the second look), after each image is decoded as
``predict`` decodes a file, so a crop gets the same answer over HTTP as on the command line. Images
are decoded one at a time and, when larger than a plate crop, dropped once prepared, so a batch of
large photos holds one decoded photo in memory, not all of them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from anpr.serve.batching import Batcher
from anpr.serve.images import ImageProblem, decode_image
from anpr.serve.settings import ServeSettings

# A batch item is the image's bytes, or (from transport) the reason its bytes are unusable.
Item = bytes | str


class ReadEngine:
    """Owns the :class:`~anpr.inference.PlateReader` and its batch queue; ``ready`` once warm."""

    def __init__(self, settings: ServeSettings, reader: Any = None, on_batch=None) -> None:
        self.settings = settings
        self.reader = reader
        self.ready = False
        self.failure: str | None = None  # why the model could not be loaded or warmed up
        batching, limits = settings.batching, settings.limits
        self.batcher = Batcher(
            self.read_batch, batching.max_batch_size, batching.batch_timeout_s, limits.max_queued_images, on_batch
        )

    async def start(self) -> None:
        """Start the queue, then load (if needed) and warm the model up in the model thread."""
        self.batcher.start()
        asyncio.get_running_loop().create_task(self._warm_up(), name="anpr-warm-up")

    async def stop(self) -> None:
        await self.batcher.stop()

    async def read(self, items: list[Item]) -> list[dict[str, Any] | ImageProblem]:
        """One ``predict --json`` record (without ``path``) or :class:`ImageProblem` per item."""
        return await self.batcher.submit(items)

    async def _warm_up(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.batcher.executor, self._load_and_warm_up)
        except Exception as err:  # the server stays up and says why it is not ready
            self.failure = f"{type(err).__name__}: {err}"
            return
        self.ready = True

    def _load_and_warm_up(self) -> None:
        if self.reader is None:
            self.reader = load_reader(self.settings)
        h, w = self.reader.preprocessor.image_height, self.reader.preprocessor.image_width
        blank = np.full((h, w, 3), 200, np.uint8)
        for size in sorted({1, self.settings.batching.max_batch_size}):  # both ends of the batch range
            self.reader.read([blank] * size, rgb=True, batch_size=size)

    def read_batch(self, items: list[Item]) -> list[dict[str, Any] | ImageProblem]:
        """Runs in the model thread: decode and preprocess each image, one model call for all."""
        reader, max_pixels = self.reader, self.settings.limits.max_pixels
        results: list[dict[str, Any] | ImageProblem | None] = [None] * len(items)
        prepared, slots = [], []
        for i, data in enumerate(items):
            if isinstance(data, str):
                results[i] = ImageProblem("bad_base64", data)
                continue
            try:
                image = decode_image(data, max_pixels)
            except ImageProblem as problem:
                results[i] = problem
                continue
            prepared.append(reader.prepare(image))  # a large image is dropped here
            slots.append(i)
        if prepared:
            reads = reader.read_prepared(prepared, self.settings.decoding.min_confidence)
            for i, plate in zip(slots, reads):
                results[i] = plate.to_record()
        return results  # type: ignore[return-value]


def load_reader(settings: ServeSettings) -> Any:
    """The reader ``anpr predict`` would build from the same model and decoding options."""
    from anpr.inference import PlateReader

    return PlateReader.from_path(settings.model, threads=settings.threads, **settings.decoding.reader_options())
