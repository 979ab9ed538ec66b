"""ONNX export of a trained reader, with its metadata and a PyTorch/ONNX parity check.

The exported file is self-describing: the charset, input size and normalization are stored in
the ONNX ``metadata_props`` (keys ``anpr.*``), so the file alone is enough to read plates
(:meth:`anpr.inference.PlateReader.from_onnx` reads them back).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anpr.inference.reader import OnnxBackend, PlateReader, TorchBackend, onnx_session
from anpr.inference.sources import sample_plates
from anpr.models.model_file import ModelInfo, load_checkpoint

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
MIN_OPSET = 17


def export_onnx(net: Any, info: ModelInfo, out: str | Path, opset: int = MIN_OPSET) -> Path:
    """Write ``net`` as ONNX (dynamic batch axis, input ``images``, output ``logits``).

    The TorchScript-based exporter is used (``dynamo=False``): torch's newer exporter needs the
    ``onnxscript`` package, and this network (convolutions, pooling, LSTM) exports cleanly either way.
    """
    import onnx
    import torch

    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is too old; use {MIN_OPSET} or newer")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    height, width = info.contract.image_height, info.contract.image_width
    example = torch.zeros(2, 3, height, width)
    net = net.eval()
    with warnings.catch_warnings():
        # The legacy exporter's deprecation notice, and an LSTM batch-size warning that does not
        # apply: the initial states are zeros built from the input's batch size (checked by parity).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (example,),
            str(out),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    model = onnx.load(str(out))
    set_metadata(model, info.onnx_metadata())
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return out


def export_checkpoint(checkpoint: str | Path, out: str | Path, opset: int = MIN_OPSET) -> tuple[Path, ModelInfo]:
    """Export a training checkpoint (loaded safely, ``weights_only=True``) to ONNX."""
    net, info = load_checkpoint(checkpoint)
    return export_onnx(net, info, out, opset), info


def set_metadata(model: Any, metadata: Mapping[str, str]) -> None:
    """Set ``metadata_props`` entries of an in-memory ONNX model (replacing same-named ones)."""
    keep = [p for p in model.metadata_props if p.key not in metadata]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)


def read_metadata(path: str | Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


@dataclass
class ParityReport:
    """How closely the ONNX file reproduces PyTorch on the same preprocessed batch."""

    num_images: int
    max_abs_logit_diff: float
    identical_texts: int
    images_source: str
    mismatches: list[tuple[str, str]] = field(default_factory=list)  # (pytorch, onnx)

    @property
    def ok(self) -> bool:
        return self.identical_texts == self.num_images

    def summary(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        lines = [
            f"Parity check on {self.num_images} {self.images_source}: {verdict}",
            f"  max |logit difference| PyTorch vs ONNX Runtime: {self.max_abs_logit_diff:.3g}",
            f"  decoded strings identical: {self.identical_texts}/{self.num_images}",
        ]
        lines += [f"  differs: pytorch {a!r} vs onnx {b!r}" for a, b in self.mismatches[:5]]
        return "\n".join(lines)


def parity_check(
    net: Any,
    info: ModelInfo,
    onnx_path: str | Path,
    images: Sequence[np.ndarray] | None = None,
    count: int = 24,
    seed: int = 0,
    source: str | None = None,
) -> ParityReport:
    """Compare PyTorch and ONNX Runtime on ``images`` (BGR), by default ``count`` synthetic plates.

    The batch size differs from the one used at export, so the dynamic batch axis is exercised.
    """
    if images is None:
        images, _, source = sample_plates(count, seed)
    torch_reader = PlateReader(TorchBackend(net), info)
    onnx_reader = PlateReader(OnnxBackend(onnx_session(onnx_path)), info)
    batch = torch_reader.preprocess(images)
    torch_logits, onnx_logits = torch_reader.logits(batch), onnx_reader.logits(batch)
    torch_texts = [r.text for r in torch_reader.decode(torch_logits)]
    onnx_texts = [r.text for r in onnx_reader.decode(onnx_logits)]
    pairs = list(zip(torch_texts, onnx_texts))
    return ParityReport(
        num_images=len(pairs),
        max_abs_logit_diff=float(np.abs(torch_logits - onnx_logits).max()) if pairs else 0.0,
        identical_texts=sum(a == b for a, b in pairs),
        images_source=source or "given images",
        mismatches=[(a, b) for a, b in pairs if a != b],
    )
