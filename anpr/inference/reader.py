"""Reading plates with a trained model: a Lightning checkpoint or an exported ONNX file.

Both back ends share one front end: images (paths or arrays, any size, gray or colour) go
through :class:`anpr.data.images.Preprocessor`, exactly the validation preprocessing, and the
logits are decoded by :class:`anpr.decoding.PlateDecoder` (grammar-constrained by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from anpr.charset import Charset
from anpr.data.images import Preprocessor, read_image, to_rgb8
from anpr.decoding import DEFAULT_DECODER, DEFAULT_MIN_VALID_RATIO, PlateDecoder, PlateRead
from anpr.grammar import FROM_MODEL
from anpr.inference.ensemble import SUFFIXES as READER_SUFFIXES
from anpr.inference.ensemble import EnsembleBackend, combined_info, read_manifest
from anpr.inference.second_look import FROM_READER_FILE, SecondLook, look_again
from anpr.inference.small_crops import split_by_height
from anpr.inference.views import DEFAULT_VIEWS, check_views, crop_view
from anpr.models.model_file import (  # re-exported: readers' users meet them here
    CheckpointError,
    ModelInfo,
    UnsafeCheckpointError,
    checkpoint_info,
    load_checkpoint,
)
from anpr.pretrained import INT8_NAME as PRETRAINED_INT8
from anpr.pretrained import NAME as PRETRAINED
from anpr.pretrained import resolve_model

__all__ = ["CheckpointError", "ModelInfo", "PlateReader", "UnsafeCheckpointError", "checkpoint_info", "load_checkpoint"]

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
HOLD_PIXELS = 1_000_000  # crops up to this size are kept for the second look; larger ones are not
ONNX_SUFFIXES = (".onnx",)


class Prepared(NamedTuple):
    """A crop made ready to read (:meth:`PlateReader.prepare`): its model input, what the second
    look may need of it, and its height in pixels (which reader reads it)."""

    input: np.ndarray
    held: Any
    height: int


class SmallCropReader(NamedTuple):
    """The reader of crops under ``below_height`` pixels high (:mod:`anpr.inference.small_crops`)."""

    below_height: int
    reader: PlateReader


class TorchBackend:
    """Logits from a PyTorch network (eager mode, CPU unless moved)."""

    name = "pytorch"

    def __init__(self, net: Any, device: str = "cpu") -> None:
        self.net = net.eval().to(device)
        self.device = device

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.net(torch.from_numpy(batch).to(self.device)).float().cpu().numpy()


class OnnxBackend:
    """Logits from an ONNX Runtime session (input ``images``, output ``logits``)."""

    name = "onnxruntime"

    def __init__(self, session: Any) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]


def onnx_session(path: str | Path, threads: int | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class PlateReader:
    """Reads batches of plate crops with a model and the model's own preprocessing.

    Use :meth:`from_path` (``.ckpt``/``.pt``/``.pth`` checkpoints or ``.onnx`` files). Arrays are
    taken as BGR, as OpenCV loads them, unless ``rgb=True``; gray, RGBA and 16-bit are converted.

    ``decoder`` is ``"grammar"`` (the most probable reading the plate grammar accepts, or the free
    reading when that is far likelier: ``min_valid_ratio``) or ``"greedy"`` (best path);
    ``grammar`` is ``"model"`` (the default: the grammar stored in the model file), ``"india"``,
    ``"none"``, a YAML file or ``module:NAME`` (:mod:`anpr.grammar`).
    The model's calibration temperature, if it has one, scales every confidence.

    ``views`` (:mod:`anpr.inference.views`) reads each crop boxed several ways and keeps the
    reading they agree on (:mod:`anpr.decoding.combine`); a reader file (``.json``,
    :mod:`anpr.inference.ensemble`) does the same with several models. ``combined_power``
    calibrates the confidence of such combined readings (a reader file's ``confidence_power``).
    ``second_look`` (:mod:`anpr.inference.second_look`) reads doubtful crops again in other
    boxes; a reader file's applies unless ``second_look=None``. ``small_crops`` (a reader file's
    :mod:`anpr.inference.small_crops`) reads crops under a height with another reader.
    """

    def __init__(
        self,
        backend: Any,
        info: ModelInfo,
        source: str = "",
        decoder: str = DEFAULT_DECODER,
        grammar: Any = FROM_MODEL,
        n_best: int = 3,
        min_valid_ratio: float = DEFAULT_MIN_VALID_RATIO,
        views: Sequence[str] | None = None,
        combined_power: float = 1.0,
        second_look: SecondLook | str | None = None,
    ) -> None:
        self.backend = backend
        self.second_look = second_look if isinstance(second_look, SecondLook) else None
        self.small_crops: SmallCropReader | None = None
        self.views = check_views(views or DEFAULT_VIEWS)
        self.info = info
        self.charset = Charset(info.charset)
        self.preprocessor = Preprocessor(info.contract)
        self.source = source
        if isinstance(grammar, str) and grammar == FROM_MODEL:
            grammar = info.contract.decoding_grammar
        self.decoder = PlateDecoder(
            info.charset, decoder, grammar, info.temperature, n_best, min_valid_ratio, combined_power=combined_power
        )

    @classmethod
    def from_path(cls, path: str | Path, threads: int | None = None, **decoding: Any) -> PlateReader:
        """A reader for a checkpoint, ONNX or reader (``.json``) file, or ``"pretrained"`` (the
        shipped reader); ``decoding``: ``decoder``, ``grammar``, ``n_best``, ``min_valid_ratio``,
        ``views`` (see the class)."""
        path = resolve_model(path, "onnx")
        suffix = path.suffix.lower()
        if suffix in READER_SUFFIXES:
            return cls.from_reader_file(path, threads, **decoding)
        if suffix in ONNX_SUFFIXES:
            return cls.from_onnx(path, threads, **decoding)
        if suffix in CHECKPOINT_SUFFIXES:
            return cls.from_checkpoint(path, threads, **decoding)
        raise CheckpointError(
            f"{path}: unknown model file type {suffix!r} (expected {CHECKPOINT_SUFFIXES + ONNX_SUFFIXES})"
        )

    @classmethod
    def from_reader_file(cls, path: str | Path, threads: int | None = None, **decoding: Any) -> PlateReader:
        """A reader of several models and views, as a reader file names them."""
        spec = read_manifest(path)
        if any(m.suffix.lower() in READER_SUFFIXES for m in spec.members):
            raise CheckpointError(f"{path}: a member is itself a reader file; name model files")
        small = None
        if spec.small_crops is not None:  # read with the same decoding options as the rest
            small = cls.from_path(spec.small_crops.reader, threads, **decoding)
            if small.small_crops is not None:
                raise CheckpointError(f"{spec.small_crops.reader}: a small-crop reader cannot send crops on again")
        readers = [cls.from_path(member, threads) for member in spec.members]
        info = combined_info([r.info for r in readers], [str(m) for m in spec.members])
        backend = EnsembleBackend([(r.backend, r.info.temperature) for r in readers])
        decoding["views"] = decoding.get("views") or spec.views
        if decoding.get("second_look", FROM_READER_FILE) == FROM_READER_FILE:
            decoding["second_look"] = spec.second_look
        reader = cls(backend, info, str(path), combined_power=spec.confidence_power, **decoding)
        if small is not None:
            reader.small_crops = SmallCropReader(spec.small_crops.below_height, small)
        return reader

    @classmethod
    def pretrained(cls, threads: int | None = None, int8: bool = False, **decoding: Any) -> PlateReader:
        """The reader that ships with the package (ONNX Runtime, fp32 or static int8; see
        :mod:`anpr.pretrained`)."""
        return cls.from_path(PRETRAINED_INT8 if int8 else PRETRAINED, threads, **decoding)

    @classmethod
    def from_checkpoint(cls, path: str | Path, threads: int | None = None, **decoding: Any) -> PlateReader:
        if threads:
            import torch

            torch.set_num_threads(int(threads))
        net, info = load_checkpoint(path)
        return cls(TorchBackend(net), info, str(path), **decoding)

    @classmethod
    def from_onnx(cls, path: str | Path, threads: int | None = None, **decoding: Any) -> PlateReader:
        if not Path(path).is_file():
            raise CheckpointError(f"ONNX file not found: {path}")
        try:
            session = onnx_session(path, threads)
        except Exception as err:  # ONNX Runtime raises its own exception types for unreadable files
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(f"{path}: not an ONNX model ONNX Runtime can load ({reason})") from None
        info = ModelInfo.from_onnx_metadata(session.get_modelmeta().custom_metadata_map, str(path))
        return cls(OnnxBackend(session), info, str(path), **decoding)

    @property
    def readings_per_plate(self) -> int:
        """Model calls each plate costs: its views times the models of a reader file."""
        return len(self.views) * len(getattr(self.backend, "members", (None,)))

    def load(self, image: str | Path | np.ndarray, rgb: bool = False) -> np.ndarray:
        """One image (a path, or an array: BGR unless ``rgb``) as HxWx3 uint8 RGB."""
        if isinstance(image, (str, Path)):
            return read_image(image)
        array = np.asarray(image)
        if array.size == 0:
            raise ValueError(f"empty image array of shape {array.shape}")
        return to_rgb8(array, assume_bgr=not rgb)

    def preprocess(self, images: Iterable[str | Path | np.ndarray], rgb: bool = False) -> np.ndarray:
        """A (batch x views, 3, H, W) float32 model input, made exactly as validation makes it
        (each image's views one after another)."""
        tensors = [self.preprocessor(crop_view(self.load(image, rgb), v)) for image in images for v in self.views]
        if not tensors:
            h, w = self.preprocessor.image_height, self.preprocessor.image_width
            return np.zeros((0, 3, h, w), np.float32)
        return np.ascontiguousarray(np.stack(tensors), dtype=np.float32)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """(plates, time, classes) from one model in one view; else (plates, readings, time,
        classes), every view of every model (log-probabilities from a reader file's members)."""
        out = self.backend(np.ascontiguousarray(batch, dtype=np.float32))
        if len(self.views) == 1 and out.ndim == 3:
            return out
        plates = len(out) // len(self.views)
        readings = out.reshape(plates, len(self.views), *out.shape[1:])  # views of one plate together
        if readings.ndim == 5:  # (plates, views, members, time, classes)
            readings = readings.reshape(plates, -1, *readings.shape[3:])
        return readings

    def decode(self, logits: np.ndarray, min_confidence: float | None = None) -> list[PlateRead]:
        return self.decoder(logits, min_confidence)

    def read(
        self,
        images: Sequence[str | Path | np.ndarray] | np.ndarray,
        rgb: bool = False,
        batch_size: int = 64,
        min_confidence: float | None = None,
    ) -> list[PlateRead]:
        """Read every image; a single array or path is read as a batch of one.

        Reads whose confidence is below ``min_confidence`` come back with ``review=True``.
        """
        if isinstance(images, (str, Path)) or (isinstance(images, np.ndarray) and images.ndim in (2, 3)):
            images = [images]
        images = list(images)
        results: list[PlateRead] = []
        for start in range(0, len(images), max(1, batch_size)):
            chunk = images[start : start + batch_size]
            results.extend(self.read_prepared([self.prepare(self.load(image, rgb)) for image in chunk], min_confidence))
        return results

    def prepare(self, image: np.ndarray) -> Prepared:
        """An RGB crop's model input (1, 3, H, W) and what the second look may need of it; the
        image itself can then be dropped (a batch of large photos holds one at a time). A crop
        the small-crop reader reads is made ready as that reader makes it."""
        if self.small_crops is not None and image.shape[0] < self.small_crops.below_height:
            return self.small_crops.reader.prepare(image)
        return Prepared(self.preprocess([image], rgb=True), self.hold_for_second_look(image), image.shape[0])

    def read_prepared(self, prepared: Sequence[Prepared], min_confidence: float | None) -> list[PlateRead]:
        """Reads of crops made ready by :meth:`prepare`: the small ones by the small-crop reader
        (if there is one), the others by one model call for all, decoding, then the second look
        at the doubtful ones (if the reader has one)."""
        if self.small_crops is None:
            return self.read_all(prepared, min_confidence)
        small, rest = split_by_height([p.height for p in prepared], self.small_crops.below_height)
        reads: list[PlateRead] = [None] * len(prepared)  # type: ignore[list-item]
        for indices, read_all in ((small, self.small_crops.reader.read_all), (rest, self.read_all)):
            if indices:
                for i, read in zip(indices, read_all([prepared[i] for i in indices], min_confidence)):
                    reads[i] = read
        return reads

    def read_all(self, prepared: Sequence[Prepared], min_confidence: float | None) -> list[PlateRead]:
        """Reads of prepared crops by this reader's own models, whatever their size."""
        inputs, held, _ = zip(*prepared)
        logits = self.logits(np.concatenate(inputs))
        reads = self.decode(logits, min_confidence)
        if self.second_look is None:
            return reads
        return look_again(self, self.second_look, partial(self.held_input, held), logits, reads, min_confidence)

    def view_input(self, image: np.ndarray, view: str) -> np.ndarray:
        """The model input of an RGB crop boxed as ``view``."""
        return self.preprocessor(crop_view(image, view))

    def hold_for_second_look(self, image: np.ndarray) -> Any:
        """What the second look may need of an RGB crop: a plate-sized crop itself (boxed again
        only if its reading is doubtful), or the model inputs of its second-look boxes, made now,
        so that a large photo need not be kept; None without a second look."""
        if self.second_look is None:
            return None
        if image.shape[0] * image.shape[1] <= HOLD_PIXELS:
            return image
        return {view: self.view_input(image, view) for view in self.second_look.views}

    def held_input(self, held: Sequence[Any], index: int, view: str) -> np.ndarray:
        """The model input of crop ``index`` boxed as ``view``, from what was held of it."""
        crop = held[index]
        return crop[view] if isinstance(crop, dict) else self.view_input(crop, view)

    def read_one(
        self, image: str | Path | np.ndarray, rgb: bool = False, min_confidence: float | None = None
    ) -> PlateRead:
        return self.read([image], rgb, min_confidence=min_confidence)[0]
