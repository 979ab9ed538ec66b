"""Readers made of several models: a small JSON file names the members and the views.

    {"format": "anpr-reader/1", "members": ["a.onnx", "b.onnx"], "views": ["full", "tight"],
     "confidence_power": 0.5, "second_look": {"below": 0.9, "views": ["wide", "tighter"]},
     "small_crops": {"below_height": 25, "reader": "reader_small.json"}}

Member paths are relative to the file. The members must share one plate contract (characters,
input size, normalisation); each keeps its own calibration temperature. Every crop is read by
every member in every view, and :mod:`anpr.decoding.combine` turns those readings into one;
``confidence_power`` (fitted by ``anpr calibrate READER.json``, default 1) calibrates its confidence.
An optional ``second_look`` reads doubtful crops again in other boxes (:mod:`anpr.inference.second_look`),
and an optional ``small_crops`` sends crops under a height to another reader (:mod:`anpr.inference.small_crops`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from anpr.decoding.ctc import log_softmax
from anpr.inference.second_look import SecondLook, SecondLookError
from anpr.inference.small_crops import SmallCrops, SmallCropsError
from anpr.inference.views import VIEWS
from anpr.models.model_file import CheckpointError, ModelInfo

FORMAT = "anpr-reader/1"
SUFFIXES = (".json",)


class EnsembleBackend:
    """Calibrated log-probabilities of every member: (batch, members, time, classes)."""

    name = "ensemble"

    def __init__(self, members: list[tuple[Any, float]]) -> None:
        self.members = members  # (backend, temperature)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([log_softmax(backend(batch), temperature) for backend, temperature in self.members], axis=1)


@dataclass(frozen=True)
class ReaderSpec:
    """What a reader file says: its models, views, confidence power, second look and small-crop reader."""

    members: list[Path]
    views: tuple[str, ...]
    confidence_power: float
    second_look: SecondLook | None
    small_crops: SmallCrops | None


def read_manifest(path: str | Path) -> ReaderSpec:
    """What the reader file at ``path`` says, or a one-line error saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"reader file not found: {path}")
    try:
        spec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: not a reader file (invalid JSON: {err})") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise CheckpointError(f'{path}: not a reader file (expected "format": "{FORMAT}")')
    members = spec.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise CheckpointError(f"{path}: 'members' must be a non-empty list of model files")
    views = spec.get("views", ["full"])
    if not isinstance(views, list) or not all(isinstance(v, str) for v in views):
        raise CheckpointError(f"{path}: 'views' must be a list of view names")
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        raise CheckpointError(f"{path}: unknown view {unknown[0]!r} (known: {', '.join(VIEWS)})")
    power = spec.get("confidence_power", 1.0)
    if not isinstance(power, (int, float)) or isinstance(power, bool) or not power > 0:
        raise CheckpointError(f"{path}: 'confidence_power' must be a positive number")
    try:
        look = SecondLook.from_spec(spec.get("second_look"))
        small = SmallCrops.from_spec(spec.get("small_crops"), path.parent)
    except (SecondLookError, SmallCropsError) as err:
        raise CheckpointError(f"{path}: {err}") from None
    return ReaderSpec([path.parent / m for m in members], tuple(views), float(power), look, small)


def write_confidence_power(path: str | Path, power: float, fitted_on: str, out: str | Path | None = None) -> Path:
    """Store a fitted confidence power in the reader file (or a copy at ``out``, members then
    named by absolute path)."""
    path = Path(path)
    spec = json.loads(path.read_text())
    spec["confidence_power"] = round(float(power), 4)
    spec["confidence_power_fitted_on"] = fitted_on
    target = Path(out) if out is not None else path
    if target.resolve().parent != path.resolve().parent:
        spec["members"] = [str((path.parent / m).resolve()) for m in spec["members"]]
        if spec.get("small_crops"):
            spec["small_crops"]["reader"] = str((path.parent / spec["small_crops"]["reader"]).resolve())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(spec, indent=2) + "\n")
    return target


def combined_info(infos: list[ModelInfo], sources: list[str]) -> ModelInfo:
    """The first member's contract, which all must share (its grammar decodes), with
    temperature 1 (each member applies its own in :class:`EnsembleBackend`)."""
    first = infos[0]
    for info, source in zip(infos[1:], sources[1:]):
        if _reading(info) != _reading(first):
            raise CheckpointError(
                f"{source} reads plates differently from {sources[0]} (characters, input size, "
                "normalisation or time steps); the members of one reader must share them"
            )
    return replace(first, calibration={**first.calibration, "temperature": 1.0})


def _reading(info: ModelInfo) -> tuple:
    c = info.contract
    return (c.charset, c.image_height, c.image_width, c.mean, c.std, c.time_steps)
