"""A model file, checkpoint or ONNX: what it says about itself, every metadata key it may hold,
and rebuilding the network of a checkpoint.

Training (``init_from``), export and reading all load model files; living beside the networks,
this module lets each of them do so without depending on another.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anpr.charset import Charset
from anpr.contract import ContractError, PlateContract
from anpr.errors import UserError
from anpr.models.factory import build_model
from anpr.pretrained import resolve_model

# Every key of the ONNX metadata_props that make an exported file self-describing.
META_CHARSET = "anpr.charset"
META_PREPROCESSING = "anpr.preprocessing"  # JSON: image_height, image_width, mean, std
META_TIME_STEPS = "anpr.time_steps"
META_GRAMMAR = "anpr.grammar"
META_MODEL = "anpr.model"  # JSON: the network config the file was exported from
META_VERSION = "anpr.version"
META_CALIBRATION = "anpr.calibration"  # JSON: temperature (and what it was fitted on)
META_QUANTIZATION = "anpr.quantization"  # JSON: how an int8 file was quantized (anpr export --int8)


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
    calibration: dict[str, Any] = field(default_factory=dict)  # temperature, fitted_on (anpr calibrate)

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

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's ``anpr`` entry: plain types only."""
        return {**self.contract.to_dict(), "model": dict(self.model), "calibration": dict(self.calibration)}

    def onnx_metadata(self) -> dict[str, str]:
        from anpr import __version__

        return {
            **contract_onnx_metadata(self.contract),
            META_MODEL: json.dumps(self.model),
            META_VERSION: __version__,
            META_CALIBRATION: json.dumps(self.calibration),
        }

    @classmethod
    def from_onnx_metadata(cls, meta: Mapping[str, str], source: str = "ONNX file") -> ModelInfo:
        try:
            contract = contract_from_onnx_metadata(meta, source)
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
            "(expected a checkpoint written by anpr train)"
        )
    try:
        contract = PlateContract.from_dict(block.get("contract", block), str(source))
    except ContractError as err:
        raise CheckpointError(str(err)) from err
    return ModelInfo(contract, dict(block["model"]), dict(block.get("calibration") or {}))


def contract_onnx_metadata(contract: PlateContract) -> dict[str, str]:
    """The plate contract as ONNX metadata_props."""
    meta = {
        META_CHARSET: contract.charset,
        META_PREPROCESSING: json.dumps(contract.preprocessing),
        META_TIME_STEPS: str(contract.time_steps),
    }
    if contract.grammar is not None:
        meta[META_GRAMMAR] = contract.grammar
    return meta


def contract_from_onnx_metadata(meta: Mapping[str, str], source: str = "ONNX file") -> PlateContract:
    missing = [k for k in (META_CHARSET, META_PREPROCESSING) if k not in meta]
    if missing:
        raise ContractError(
            f"{source}: metadata_props lack {missing}; export it with `anpr export` "
            "so the file carries its charset and preprocessing"
        )
    block = {
        "charset": meta[META_CHARSET],
        "preprocessing": json.loads(meta[META_PREPROCESSING]),
        "time_steps": meta.get(META_TIME_STEPS, 0),
        "grammar": meta.get(META_GRAMMAR),
    }
    return PlateContract.from_dict(block, source)
