"""Static int8 quantization with ONNX Runtime, and the measurement that decides whether it pays.

Calibration data are synthetic plates put through the model's own :class:`Preprocessor`.
Dynamic quantization is not offered: on x86 its ``ConvInteger`` kernels made the seed network
several times slower than fp32. Static quantization (``QOperator`` ``QLinearConv`` or ``QDQ``,
per-channel weights) is measured instead, and :func:`choose_int8` only accepts a variant that is
faster than fp32 at batch 1 and at batch 64 on the machine that measures it, without losing accuracy.
ONNX Runtime has no static int8 LSTM kernel, so the LSTM stays float in every variant.
"""

from __future__ import annotations

import functools
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anpr.bench.table import markdown_table
from anpr.inference.reader import OnnxBackend, PlateReader, onnx_session
from anpr.inference.sources import sample_plates
from anpr.inference.timing import interleaved_medians
from anpr.models.model_file import META_QUANTIZATION, ModelInfo

QUANT_FORMATS = ("qoperator", "qdq")
# Different synthetic plates calibrate and judge a quantized model.
CALIBRATION_SEED, EVAL_SEED = 1, 2


def plate_batch(info: ModelInfo, count: int, seed: int) -> tuple[np.ndarray, list[str] | None, str]:
    """``count`` synthetic plates preprocessed exactly as for inference, their texts, their source."""
    images, texts, source = sample_plates(count, seed)
    reader = PlateReader(backend=None, info=info)
    return reader.preprocess(images), texts, source


def quantize_static_int8(
    fp32_path: str | Path,
    out_path: str | Path,
    calibration: np.ndarray,
    quant_format: str = "qoperator",
    per_channel: bool = True,
    calibration_batch: int = 16,
    float_head: bool = True,
) -> Path:
    """Write a statically quantized copy of ``fp32_path`` (uint8 activations, int8 weights).

    Args:
        calibration: preprocessed plates (N, 3, H, W) whose activation ranges set the scales.
        quant_format: ``qoperator`` (QLinearConv etc.) or ``qdq`` (Quantize/DequantizeLinear pairs).
        float_head: keep the final classifier (MatMul/Gemm/Add producing the logits) in float.
            Quantized logits have too few levels to separate close classes: on a partly trained
            crnn_small this alone lifted reads identical to fp32 from 75% to 98%, at no cost in speed.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from anpr.export.onnx_export import read_metadata, set_metadata

    if quant_format not in QUANT_FORMATS:
        raise ValueError(f"quant_format must be one of {QUANT_FORMATS}, got {quant_format!r}")
    batches = [calibration[i : i + calibration_batch] for i in range(0, len(calibration), calibration_batch)]

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter({"images": np.ascontiguousarray(b, dtype=np.float32)} for b in batches)

        def get_next(self):
            return next(self.items, None)

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs a warning per integer tensor it skips
    try:
        with tempfile.TemporaryDirectory() as tmp:
            prepared = Path(tmp) / "prepared.onnx"
            quant_pre_process(str(fp32_path), str(prepared))
            head = head_nodes(onnx.load(str(prepared))) if float_head else []
            quantize_static(
                str(prepared),
                str(out_path),
                Batches(),
                quant_format=QuantFormat.QOperator if quant_format == "qoperator" else QuantFormat.QDQ,
                per_channel=per_channel,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=head,
            )
    finally:
        root.setLevel(level)
    model = onnx.load(str(out_path))
    settings = {
        "method": "static",
        "format": quant_format,
        "per_channel": per_channel,
        "calibration_plates": int(len(calibration)),
        "float_nodes": head,
    }
    set_metadata(model, {**read_metadata(fp32_path), META_QUANTIZATION: json.dumps(settings)})
    onnx.save(model, str(out_path))
    return out_path


def head_nodes(model) -> list[str]:
    """Names of the nodes that compute the graph output from the last non-linear op: the
    classifier's MatMul/Gemm and bias Add (walking back from the output through those op types)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    initializers = {init.name for init in model.graph.initializer}
    names, frontier = [], [o.name for o in model.graph.output]
    while frontier:
        node = producers.get(frontier.pop())
        if node is None or node.op_type not in ("MatMul", "Gemm", "Add") or node.name in names:
            continue
        names.append(node.name)
        frontier += [i for i in node.input if i not in initializers]
    return names


@dataclass
class Measurement:
    """Speed and accuracy of one ONNX file on this machine."""

    name: str
    path: str
    size_mb: float
    latency_ms: float  # batch 1, median
    throughput: float  # plates/s at the throughput batch
    agreement: float | None = None  # share of decoded strings equal to fp32's
    sequence_accuracy: float | None = None  # against the synthetic plates' truth, when known
    char_agreement: float | None = None  # mean character accuracy of the reads taking fp32's as truth


def measure_onnx(
    paths: dict[str, str | Path],
    info: ModelInfo,
    batch: np.ndarray,
    texts: Sequence[str] | None,
    threads: int | None = None,
    throughput_batch: int = 64,
    repeats: int = 20,
    reference: str = "fp32",
) -> dict[str, Measurement]:
    """Time each ONNX file at batch 1 and ``throughput_batch`` (interleaved) and read ``batch``
    with it; agreement is measured against the ``reference`` entry's reads."""
    readers = {name: PlateReader(OnnxBackend(onnx_session(path, threads)), info) for name, path in paths.items()}
    reads = {
        name: [r.text for r in _read_preprocessed(reader, batch, throughput_batch)] for name, reader in readers.items()
    }
    one, many = np.ascontiguousarray(batch[:1]), _tile(batch, throughput_batch)
    latency = interleaved_medians({k: functools.partial(r.logits, one) for k, r in readers.items()}, 5, repeats)
    per_batch = interleaved_medians(
        {k: functools.partial(r.logits, many) for k, r in readers.items()}, 1, max(3, repeats // 4)
    )
    return {
        name: Measurement(
            name=name,
            path=str(path),
            size_mb=Path(path).stat().st_size / 1e6,
            latency_ms=latency[name] * 1e3,
            throughput=throughput_batch / per_batch[name],
            agreement=_share_equal(reads[name], reads[reference]) if reference in reads else None,
            sequence_accuracy=_share_equal(reads[name], texts) if texts is not None else None,
            char_agreement=_char_agreement(reads[name], reads[reference]) if reference in reads else None,
        )
        for name, path in paths.items()
    }


def choose_int8(
    fp32: Measurement,
    candidates: Sequence[Measurement],
    min_speedup: float = 1.05,
    max_accuracy_drop: float = 0.01,
    min_agreement: float = 0.98,
    reads_well: float = 0.5,
) -> tuple[Measurement | None, list[str]]:
    """The fastest int8 variant that beats fp32 at batch 1 and at the throughput batch and keeps
    accuracy; ``None`` if there is none. Also returns a line per candidate saying why.

    Accuracy is kept when sequence accuracy (against known truth) drops by at most
    ``max_accuracy_drop``. When there is no truth, or fp32 itself reads under ``reads_well`` of the
    plates (so accuracy cannot show a loss), at least ``min_agreement`` of the reads must equal fp32's.
    """
    notes, accepted = [], []
    for c in candidates:
        speed1, speed_n = fp32.latency_ms / c.latency_ms, c.throughput / fp32.throughput
        problems = []
        if speed1 < min_speedup:
            problems.append(f"not faster at batch 1 ({speed1:.2f}x)")
        if speed_n < min_speedup:
            problems.append(f"not faster at the throughput batch ({speed_n:.2f}x)")
        truth_known = c.sequence_accuracy is not None and fp32.sequence_accuracy is not None
        if truth_known:
            drop = fp32.sequence_accuracy - c.sequence_accuracy
            if drop > max_accuracy_drop:
                problems.append(f"sequence accuracy drops {drop:.1%} (> {max_accuracy_drop:.1%})")
        if not truth_known or fp32.sequence_accuracy < reads_well:
            if c.agreement is not None and c.agreement < min_agreement:
                problems.append(
                    f"only {c.agreement:.1%} of reads equal fp32's (< {min_agreement:.0%}; "
                    "accuracy cannot decide, fp32 itself reads too few plates)"
                    if truth_known
                    else f"only {c.agreement:.1%} of reads equal fp32's (< {min_agreement:.0%})"
                )
        verdict = "rejected: " + "; ".join(problems) if problems else "acceptable"
        notes.append(f"{c.name}: {speed1:.2f}x at batch 1, {speed_n:.2f}x throughput; {verdict}")
        if not problems:
            accepted.append((speed1 * speed_n, c))
    best = max(accepted, key=lambda pair: pair[0])[1] if accepted else None
    return best, notes


def _read_preprocessed(reader: PlateReader, batch: np.ndarray, size: int):
    out = []
    for start in range(0, len(batch), size):
        out.extend(reader.decode(reader.logits(batch[start : start + size])))
    return out


def _tile(batch: np.ndarray, size: int) -> np.ndarray:
    reps = -(-size // max(1, len(batch)))
    return np.ascontiguousarray(np.concatenate([batch] * reps)[:size])


def _char_agreement(reads: Sequence[str], reference: Sequence[str]) -> float:
    from anpr.evaluate.metrics import per_plate_character_accuracy

    if not reference:
        return 1.0
    return float(per_plate_character_accuracy(list(reads), list(reference)).mean())


def _share_equal(a: Sequence[str], b: Sequence[str]) -> float:
    return sum(x == y for x, y in zip(a, b)) / max(1, len(b))


@dataclass
class Int8Report:
    """What the int8 search measured, what it chose and where the file went (if anywhere)."""

    fp32: Measurement
    candidates: list[Measurement]
    chosen: Measurement | None
    notes: list[str]
    written: Path | None
    images_source: str
    threads: int | None

    def table(self) -> str:
        rows = []
        for m in [self.fp32, *self.candidates]:
            agree = "-" if m.agreement is None else f"{m.agreement:.1%}"
            chars = "-" if m.char_agreement is None else f"{m.char_agreement:.1%}"
            acc = "-" if m.sequence_accuracy is None else f"{m.sequence_accuracy:.1%}"
            rows.append((m.name, f"{m.size_mb:.1f}", f"{m.latency_ms:.2f}", f"{m.throughput:.0f}", agree, chars, acc))
        header = (
            "model",
            "size (MB)",
            "batch 1 (ms/plate)",
            "batch 64 (plates/s)",
            "reads = fp32",
            "char. agreement with fp32",
            "seq. acc. (synthetic)",
        )
        return "\n".join(markdown_table(header, "lrrrrrr", rows))


def build_int8(
    fp32_path: str | Path,
    info: ModelInfo,
    out_path: str | Path,
    threads: int | None = None,
    calibration_size: int = 128,
    eval_size: int = 256,
    formats: Sequence[str] = QUANT_FORMATS,
    force: bool = False,
    repeats: int = 20,
    max_accuracy_drop: float = 0.01,
) -> Int8Report:
    """Quantize ``fp32_path`` in each format, measure everything side by side, keep the best.

    The int8 file is written to ``out_path`` only when a variant is faster than fp32 at batch 1
    and batch 64 and keeps accuracy (see :func:`choose_int8`); with ``force`` the fastest variant
    is written regardless (callers must warn).
    """
    import shutil

    calibration, _, source = plate_batch(info, calibration_size, seed=CALIBRATION_SEED)
    eval_batch, texts, _ = plate_batch(info, eval_size, seed=EVAL_SEED)
    written = None
    with tempfile.TemporaryDirectory() as tmp:
        paths: dict[str, str | Path] = {"fp32": fp32_path}
        for fmt in formats:
            paths[f"int8 static {fmt}"] = quantize_static_int8(
                fp32_path, Path(tmp) / f"int8_{fmt}.onnx", calibration, fmt
            )
        measured = measure_onnx(paths, info, eval_batch, texts, threads, repeats=repeats)
        fp32 = measured.pop("fp32")
        candidates = list(measured.values())
        chosen, notes = choose_int8(fp32, candidates, max_accuracy_drop=max_accuracy_drop)
        keep = chosen or (max(candidates, key=lambda c: c.throughput / c.latency_ms) if force and candidates else None)
        if keep is not None:
            out_path = Path(out_path)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(keep.path, out_path)
            written = out_path
    for m in candidates:
        m.path = str(written) if written and m is keep else ""
    return Int8Report(fp32, candidates, chosen, notes, written, source, threads)
