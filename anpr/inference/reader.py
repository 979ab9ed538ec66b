"""Reading plates with a trained model: a Lightning checkpoint or an exported ONNX file.

Both back ends share one front end: images (paths or arrays, any size, gray or colour) go
through :class:`anpr.data.images.Preprocessor`, exactly the validation preprocessing, and the
logits are decoded by :class:`anpr.decoding.PlateDecoder` (grammar-constrained by default).
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anpr.charset import Charset
from anpr.contract import ContractError, PlateContract
from anpr.data.images import Preprocessor, read_image, to_rgb8
from anpr.decoding import DEFAULT_DECODER, DEFAULT_MIN_VALID_RATIO, PlateDecoder, PlateRead
from anpr.errors import UserError
from anpr.grammar import FROM_MODEL
from anpr.pretrained import INT8_NAME as PRETRAINED_INT8
from anpr.pretrained import NAME as PRETRAINED
from anpr.pretrained import resolve_model

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
ONNX_SUFFIXES = (".onnx",)

# Keys of the ONNX metadata_props that make an exported file self-describing, beside the plate
# contract's own (anpr.contract).
META_MODEL = "anpr.model"  # JSON: the network config the file was exported from
META_VERSION = "anpr.version"
META_CALIBRATION = "anpr.calibration"  # JSON: temperature (and what it was fitted on)


class CheckpointError(UserError):
    """A model file that cannot be used to read plates (wrong format, missing metadata)."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint holding objects beyond plain tensors and containers: it is not loaded,
    because unpickling arbitrary objects can run code."""


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself: its plate contract, the network config it was built
    from and its confidence calibration."""

    contract: PlateContract
    model: dict[str, Any]
    calibration: dict[str, Any] = field(default_factory=dict)  # temperature, fitted_on (scripts/calibrate.py)

    @property
    def charset(self) -> str:
        return self.contract.charset

    @property
    def preprocessing(self) -> dict[str, Any]:
        return self.contract.preprocessing

    @property
    def time_steps(self) -> int:
        return self.contract.time_steps

    @property
    def temperature(self) -> float:
        return float(self.calibration.get("temperature", 1.0))

    @property
    def preprocessor(self) -> Preprocessor:
        return Preprocessor(self.contract)

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's ``anpr`` entry: plain types only."""
        return {**self.contract.to_dict(), "model": dict(self.model), "calibration": dict(self.calibration)}

    def onnx_metadata(self) -> dict[str, str]:
        from anpr import __version__

        return {
            **self.contract.onnx_metadata(),
            META_MODEL: json.dumps(self.model),
            META_VERSION: __version__,
            META_CALIBRATION: json.dumps(self.calibration),
        }

    @classmethod
    def from_onnx_metadata(cls, meta: Mapping[str, str], source: str = "ONNX file") -> ModelInfo:
        try:
            contract = PlateContract.from_onnx_metadata(meta, source)
        except ContractError as err:
            raise CheckpointError(str(err)) from err
        return cls(contract, json.loads(meta.get(META_MODEL, "{}")), json.loads(meta.get(META_CALIBRATION, "{}")))


def load_checkpoint(path: str | Path) -> tuple[Any, ModelInfo]:
    """Rebuild the network of a training checkpoint, loading it with ``weights_only=True``.

    Returns ``(network in eval mode, ModelInfo)``. Only tensors and plain containers are
    unpickled, so a checkpoint from a stranger cannot run code; anything else raises
    :class:`UnsafeCheckpointError` (there is no silent fallback to unsafe loading).
    """
    import torch

    from anpr.models.factory import build_model

    path = resolve_model(path, "checkpoint")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if found:
            raise UnsafeCheckpointError(
                f"{path}: refused to load: it names {found[1]!r}, and weights_only loading only "
                "accepts tensors and plain containers (unpickling other objects can run code). If you "
                "trust its author, load it yourself and save its state_dict and 'anpr' entries alone."
            ) from err
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", str(err))
        raise CheckpointError(
            f"{path}: refused to load: not a PyTorch checkpoint that weights_only loading can read "
            f"({detail[1] if detail else str(err).splitlines()[0]})"
        ) from err
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({err})") from err
    info = checkpoint_info(checkpoint, path)
    state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: no 'state_dict' in the checkpoint")
    net_state = {k[len("net.") :]: v for k, v in state.items() if k.startswith("net.")}
    if not net_state:
        raise CheckpointError(f"{path}: the state_dict has no 'net.' weights (not an anpr checkpoint?)")
    net = build_model(info.model, num_classes=Charset(info.charset).num_classes)
    net.load_state_dict(net_state)
    return net.eval(), info


def checkpoint_info(checkpoint: Any, source: Path | str = "checkpoint") -> ModelInfo:
    """The ``anpr`` block training writes (or the hyperparameters, for older checkpoints)."""
    block = checkpoint.get("anpr") if isinstance(checkpoint, dict) else None
    if block is None and isinstance(checkpoint, dict):
        block = checkpoint.get("hyper_parameters")
    if not isinstance(block, Mapping) or "model" not in block:
        raise CheckpointError(
            f"{source}: no charset/preprocessing/model config in the checkpoint "
            "(expected a checkpoint written by scripts/train.py)"
        )
    try:
        contract = PlateContract.from_dict(block.get("contract", block), str(source))
    except ContractError as err:
        raise CheckpointError(str(err)) from err
    return ModelInfo(contract, dict(block["model"]), dict(block.get("calibration") or {}))


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
    ) -> None:
        self.backend = backend
        self.info = info
        self.charset = Charset(info.charset)
        self.preprocessor = info.preprocessor
        self.source = source
        if isinstance(grammar, str) and grammar == FROM_MODEL:
            grammar = info.contract.decoding_grammar
        self.decoder = PlateDecoder(info.charset, decoder, grammar, info.temperature, n_best, min_valid_ratio)

    @classmethod
    def from_path(cls, path: str | Path, threads: int | None = None, **decoding: Any) -> PlateReader:
        """A reader for a checkpoint or ONNX file, or ``"pretrained"`` (the shipped reader);
        ``decoding``: ``decoder``, ``grammar``, ``n_best``, ``min_valid_ratio`` (see the class)."""
        path = resolve_model(path, "onnx")
        suffix = path.suffix.lower()
        if suffix in ONNX_SUFFIXES:
            return cls.from_onnx(path, threads, **decoding)
        if suffix in CHECKPOINT_SUFFIXES:
            return cls.from_checkpoint(path, threads, **decoding)
        raise CheckpointError(
            f"{path}: unknown model file type {suffix!r} (expected {CHECKPOINT_SUFFIXES + ONNX_SUFFIXES})"
        )

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

    def load(self, image: str | Path | np.ndarray, rgb: bool = False) -> np.ndarray:
        """One image (a path, or an array: BGR unless ``rgb``) as HxWx3 uint8 RGB."""
        if isinstance(image, (str, Path)):
            return read_image(image)
        array = np.asarray(image)
        if array.size == 0:
            raise ValueError(f"empty image array of shape {array.shape}")
        return to_rgb8(array, assume_bgr=not rgb)

    def preprocess(self, images: Iterable[str | Path | np.ndarray], rgb: bool = False) -> np.ndarray:
        """A (batch, 3, H, W) float32 model input, made exactly as validation makes it."""
        tensors = [self.preprocessor(self.load(image, rgb)) for image in images]
        if not tensors:
            h, w = self.preprocessor.image_height, self.preprocessor.image_width
            return np.zeros((0, 3, h, w), np.float32)
        return np.ascontiguousarray(np.stack(tensors), dtype=np.float32)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        return self.backend(np.ascontiguousarray(batch, dtype=np.float32))

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
            batch = self.preprocess(images[start : start + batch_size], rgb)
            results.extend(self.decode(self.logits(batch), min_confidence))
        return results

    def read_one(
        self, image: str | Path | np.ndarray, rgb: bool = False, min_confidence: float | None = None
    ) -> PlateRead:
        return self.read([image], rgb, min_confidence=min_confidence)[0]
