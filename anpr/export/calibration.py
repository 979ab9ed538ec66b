"""Temperature calibration: make a reader's confidence mean what it says.

One scalar ``T`` divides the logits before the softmax; it is fitted to minimise the negative
log-likelihood of the true readings (the CTC loss) on held-out plates the model never trained on,
and stored with the model (checkpoint ``anpr.calibration``, ONNX ``anpr.calibration``), so every
reader of that file reports calibrated confidences. Best paths do not change with ``T``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anpr.decoding import log_softmax, sequence_log_likelihood

CALIBRATION_SEED = 1_000_003  # synthetic plates far from any training seed's


def mean_nll(logits: np.ndarray, labels: Sequence[Sequence[int]], temperature: float) -> float:
    """Mean ``-log P(true reading)`` at ``temperature``; readings the model cannot emit are skipped."""
    scores = sequence_log_likelihood(log_softmax(logits, temperature), labels)
    finite = np.isfinite(scores)
    return float(-scores[finite].mean()) if finite.any() else float("inf")


def fit_temperature(
    logits: np.ndarray, labels: Sequence[Sequence[int]], low: float = 0.25, high: float = 8.0, steps: int = 40
) -> float:
    """The temperature minimising :func:`mean_nll` (golden-section search over log T)."""
    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = mean_nll(logits, labels, math.exp(c)), mean_nll(logits, labels, math.exp(d))
    for _ in range(steps):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = mean_nll(logits, labels, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = mean_nll(logits, labels, math.exp(d))
    return math.exp((a + b) / 2)


def calibrate(
    reader: Any,
    images: Sequence[np.ndarray],
    texts: Sequence[str],
    source: str,
    batch_size: int = 64,
    rgb: bool = False,
) -> dict[str, Any]:
    """Fit the temperature of ``reader``'s model on labelled plates; returns the calibration entry."""
    chunks = [
        reader.logits(reader.preprocess(images[i : i + batch_size], rgb)) for i in range(0, len(images), batch_size)
    ]
    logits = np.concatenate(chunks).astype(np.float64)
    index = {c: i + 1 for i, c in enumerate(reader.info.charset)}
    labels = [[index[c] for c in text] for text in texts]
    temperature = fit_temperature(logits, labels)
    return {
        "temperature": round(temperature, 4),
        "fitted_on": source,
        "num_plates": len(texts),
        "nll_before": round(mean_nll(logits, labels, 1.0), 4),
        "nll_after": round(mean_nll(logits, labels, temperature), 4),
    }


def fit_confidence_power(confidences: Sequence[float], right: Sequence[bool]) -> float:
    """The power ``k`` that makes ``confidence ** k`` the best probability of a read being right
    (least log loss), searched over 0.05-5 on a log grid fine enough for two decimals."""
    c = np.clip(np.asarray(confidences, dtype=np.float64), 1e-9, 1 - 1e-9)
    y = np.asarray(right, dtype=bool)
    powers = np.geomspace(0.05, 5.0, 801)
    p = np.clip(c[None, :] ** powers[:, None], 1e-12, 1 - 1e-12)
    loss = -(np.log(p) * y + np.log1p(-p) * ~y).mean(axis=1)
    return float(powers[int(np.argmin(loss))])


def calibrate_reader(
    reader: Any, images: Sequence[np.ndarray], texts: Sequence[str], source: str, rgb: bool = False
) -> dict[str, Any]:
    """Fit the confidence power of a reader of several readings (views, models) on labelled plates
    (the reader's own power is set to 1 for it). The fit reads each plate once, without the
    reader's second look (that look's threshold is a calibrated confidence, known only after) and
    without its small-crop reader (calibrate that reader file on its own)."""
    reader.decoder.combined_power = 1.0
    reader.second_look = None
    reader.small_crops = None  # the small-crop reader has a power of its own, fitted on small crops
    reads = reader.read(list(images), rgb=rgb)
    right = [r.text == t for r, t in zip(reads, texts)]
    power = fit_confidence_power([r.confidence for r in reads], right)
    return {"confidence_power": power, "fitted_on": source, "num_plates": len(texts), "accuracy": float(np.mean(right))}


def write_calibration(model_path: str | Path, calibration: dict[str, Any], out: str | Path | None = None) -> Path:
    """Store ``calibration`` in a copy of the model file (or in place when ``out`` is None)."""
    model_path = Path(model_path)
    out = Path(out) if out is not None else model_path
    if model_path.suffix.lower() == ".onnx":
        import json

        import onnx

        from anpr.export.onnx_export import set_metadata
        from anpr.models.model_file import META_CALIBRATION

        model = onnx.load(str(model_path))
        set_metadata(model, {META_CALIBRATION: json.dumps(calibration)})
        onnx.save(model, str(out))
        return out
    import torch

    checkpoint = torch.load(model_path, map_location="cpu", weights_only=True)
    checkpoint.setdefault("anpr", {})["calibration"] = calibration
    torch.save(checkpoint, out)
    return out
