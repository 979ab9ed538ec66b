"""Benchmark mode ``infer``: how fast each runtime reads plates on this machine, with its conditions.

It times PyTorch eager, ONNX Runtime fp32 and ONNX Runtime static int8 on the same
preprocessed synthetic plates: latency at batch 1 (ms/plate, median after warm-up) and throughput
at batch 64 (plates/s). Runtimes are timed in interleaved rounds so that a noisy neighbour on a
shared machine slows all of them alike rather than whichever happened to run at the time.
Models are named configs (``conf/model/<name>.yaml``, random weights: speed does not depend on
them) or trained checkpoints.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from anpr.bench.system import load_note, system_info
from anpr.bench.table import markdown_table
from anpr.charset import DEFAULT_CHARACTERS, Charset
from anpr.config.compose import compose_model, run_settings
from anpr.config.contract import contract_from_config
from anpr.decoding import DECODERS, DEFAULT_DECODER, PlateDecoder
from anpr.inference.reader import OnnxBackend, PlateReader, TorchBackend, onnx_session
from anpr.inference.timing import interleaved_medians
from anpr.models.model_file import ModelInfo, load_checkpoint

DEFAULT_MODEL_CONFIGS = ("crnn_small",)  # what the benchmarks time when given no model


def default_configs(model_configs: Sequence[str] | None, checkpoints: Sequence[Any]) -> list[str]:
    """The model configs to time: those asked for, else the default unless checkpoints were given."""
    if model_configs is not None:
        return list(model_configs)
    return [] if checkpoints else list(DEFAULT_MODEL_CONFIGS)


@dataclass
class InferSettings:
    batch: int = 64
    warmup: int = 5
    repeats: int = 30  # timed batch-1 calls per runtime (batch-64 calls: a quarter, at least 3)
    rounds: int = 3  # the repeats are split over this many interleaved rounds
    calibration_plates: int = 128
    eval_plates: int = 128
    int8_formats: Sequence[str] = ("qoperator", "qdq")
    threads: int | None = None
    decoder: str = DEFAULT_DECODER  # decodes the reads compared across runtimes

    @classmethod
    def configured(cls, smoke: bool = False, threads: int | None = None, **fields) -> InferSettings:
        """The measuring settings (or :meth:`smoke`'s) with ``threads`` and ``fields``."""
        return replace(cls.smoke(threads) if smoke else cls(threads=threads), **fields)

    def with_overrides(self, overrides: dict) -> InferSettings:
        """These settings with the fields in ``overrides`` replaced (sequences become tuples)."""
        return replace(self, **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})

    @classmethod
    def smoke(cls, threads: int | None = None) -> InferSettings:
        """Tiny sizes and few repeats: checks the machinery in seconds, measures nothing."""
        return cls(
            batch=4,
            warmup=1,
            repeats=2,
            rounds=1,
            calibration_plates=4,
            eval_plates=4,
            int8_formats=("qoperator",),
            threads=threads,
        )


@dataclass
class InferRow:
    model: str
    input_size: str
    runtime: str
    latency_ms: float
    throughput: float
    size_mb: float | None = None
    agreement: float | None = None  # share of reads equal to ONNX fp32's


@dataclass
class DecodeRow:
    model: str
    decoder: str
    ms_per_plate: float  # NumPy decoding of a batch of the model's own logits, per plate
    changed: float  # share of reads that differ from the greedy reading


@dataclass
class InferResult:
    rows: list[InferRow]
    settings: InferSettings
    system: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    decode_rows: list[DecodeRow] = field(default_factory=list)

    def markdown(self) -> str:
        s, sysinfo = self.settings, self.system
        features = ", ".join(sysinfo["cpu_int8_features"]) or "none of avx2/avx512/vnni"
        lines = [
            "## Inference benchmark (`anpr benchmark infer`)",
            "",
            f"- CPU: {sysinfo['cpu']} ({features}); {sysinfo['logical_cpus']} logical CPUs; "
            f"**threads: {s.threads or 'runtime default'}** (torch intra-op and ONNX Runtime intra-op)",
            *load_note(sysinfo.get("load_average"), sysinfo.get("logical_cpus")),
            f"- torch {sysinfo['torch']}, onnxruntime {sysinfo['onnxruntime']}, onnx {sysinfo['onnx']}, "
            f"Python {sysinfo['python']}",
            f"- batch 1: median of {_per_round(s.repeats, s) * s.rounds} calls after {s.warmup} warm-up calls; "
            f"batch {s.batch}: median of {_per_round(_batch_repeats(s), s) * s.rounds} calls; {s.rounds} interleaved "
            "round(s); the model call only (input already preprocessed)",
            f"- int8: ONNX Runtime static quantization (uint8 activations, per-channel int8 weights), "
            f"calibrated on {s.calibration_plates} synthetic plates; 'reads = fp32' compares decoded strings "
            f"with ONNX fp32 on {s.eval_plates} other synthetic plates",
            *[f"- {note}" for note in self.notes],
            "",
            *markdown_table(
                (
                    "model",
                    "input",
                    "runtime",
                    "batch 1 (ms/plate)",
                    f"batch {s.batch} (plates/s)",
                    "speed-up vs eager (b1 / throughput)",
                    "size (MB)",
                    "reads = fp32",
                ),
                "lllrrrrr",
                self._runtime_rows(),
            ),
        ]
        if self.decode_rows:
            lines += [
                "",
                f"Decoding (NumPy, one process) of the ONNX fp32 logits of {s.eval_plates} synthetic plates in batches "
                f"of {s.batch}, median of interleaved rounds; random weights give flat, unpeaky outputs, so their "
                "grammar decoding time says little about a trained model's:",
                "",
                *markdown_table(
                    ("model", "decoder", "ms/plate", "reads changed vs greedy"),
                    "llrr",
                    [(d.model, d.decoder, f"{d.ms_per_plate:.3f}", f"{d.changed:.1%}") for d in self.decode_rows],
                ),
            ]
        return "\n".join(lines) + "\n"

    def _runtime_rows(self) -> list[tuple[str, ...]]:
        eager = {r.model: r for r in self.rows if r.runtime == "pytorch eager"}
        rows = []
        for r in self.rows:
            base = eager.get(r.model)
            speedup = f"{base.latency_ms / r.latency_ms:.2f}x / {r.throughput / base.throughput:.2f}x" if base else "-"
            size = "-" if r.size_mb is None else f"{r.size_mb:.1f}"
            agree = "-" if r.agreement is None else f"{r.agreement:.1%}"
            rows.append(
                (r.model, r.input_size, r.runtime, f"{r.latency_ms:.2f}", f"{r.throughput:.0f}", speedup, size, agree)
            )
        return rows


def random_model(name: str, charset: str = DEFAULT_CHARACTERS, seed: int = 0) -> tuple[Any, ModelInfo]:
    """A network built from a model config with random weights (num_classes from the charset)."""
    import torch

    from anpr.models.factory import build_model

    settings = run_settings(compose_model(name))  # the training defaults, as a trained model would have
    config = settings["model"]
    config.pop("num_classes", None)
    torch.manual_seed(seed)
    net = build_model(config, num_classes=Charset(charset).num_classes).eval()
    contract = contract_from_config({**settings, "charset": charset})
    return net, ModelInfo(contract, config)


def run_infer(
    model_configs: Sequence[str] = (),
    checkpoints: Sequence[str | Path] = (),
    settings: InferSettings | None = None,
    on_status: Callable[[str], Any] | None = None,
) -> InferResult:
    """Time every model on every runtime; see the module docstring."""
    import torch

    from anpr.export.onnx_export import export_onnx
    from anpr.export.quantize import CALIBRATION_SEED, EVAL_SEED, plate_batch, quantize_static_int8

    settings = settings or InferSettings()
    system = system_info(settings.threads, ("torch", "onnxruntime", "onnx"))  # before our own work starts
    status = on_status or (lambda message: None)
    if settings.threads:
        torch.set_num_threads(int(settings.threads))
    models: list[tuple[str, Any, ModelInfo]] = []
    for name in model_configs:
        models.append((f"{name} (random weights)", *random_model(name)))
    for path in checkpoints:
        models.append((Path(path).name, *load_checkpoint(path)))
    if not models:
        raise ValueError("name at least one model config or checkpoint")
    rows: list[InferRow] = []
    decode_rows: list[DecodeRow] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (label, net, info) in enumerate(models):
            status(f"{label}: exporting and quantizing")
            size = f"{info.preprocessing['image_height']}x{info.preprocessing['image_width']}"
            fp32_path = export_onnx(net, info, Path(tmp) / f"m{index}_fp32.onnx")
            calibration, _, source = plate_batch(info, settings.calibration_plates, CALIBRATION_SEED)
            plates, _, _ = plate_batch(info, settings.eval_plates, EVAL_SEED)
            decoder = settings.decoder
            runtimes: dict[str, tuple[PlateReader, Path | None]] = {
                "pytorch eager": (PlateReader(TorchBackend(net), info, decoder=decoder), None),
                "onnxruntime fp32": (
                    PlateReader(OnnxBackend(onnx_session(fp32_path, settings.threads)), info, decoder=decoder),
                    fp32_path,
                ),
            }
            for fmt in settings.int8_formats:
                path = quantize_static_int8(fp32_path, Path(tmp) / f"m{index}_int8_{fmt}.onnx", calibration, fmt)
                runtimes[f"onnxruntime int8 ({fmt})"] = (
                    PlateReader(OnnxBackend(onnx_session(path, settings.threads)), info, decoder=decoder),
                    path,
                )
            if "noise" in source:
                notes.append(f"plates: {source}")
            status(f"{label}: timing {len(runtimes)} runtimes")
            timings = time_interleaved({k: r for k, (r, _) in runtimes.items()}, plates, settings)
            reference = _texts(runtimes["onnxruntime fp32"][0], plates, settings.batch)
            decode_rows += time_decoders(label, info, runtimes["onnxruntime fp32"][0], plates, settings)
            for name, (reader, path) in runtimes.items():
                latency, throughput = timings[name]
                agreement = None
                if name.startswith("onnxruntime int8"):
                    texts = _texts(reader, plates, settings.batch)
                    agreement = sum(a == b for a, b in zip(texts, reference)) / max(1, len(reference))
                rows.append(
                    InferRow(
                        label,
                        size,
                        name,
                        latency * 1e3,
                        throughput,
                        path.stat().st_size / 1e6 if path else _torch_size_mb(net),
                        agreement,
                    )
                )
    return InferResult(rows, settings, system, sorted(set(notes)), decode_rows)


def time_decoders(
    label: str, info: ModelInfo, reader: PlateReader, plates: np.ndarray, s: InferSettings
) -> list[DecodeRow]:
    """Each decoder's time per plate on the model's own logits, and how many reads it changes."""
    batch = np.ascontiguousarray(np.resize(plates, (s.batch, *plates.shape[1:])))
    logits = reader.logits(batch)
    decoders = {name: PlateDecoder(info.charset, name, temperature=info.temperature, n_best=1) for name in DECODERS}
    decoders["grammar, 3 best"] = PlateDecoder(info.charset, "grammar", temperature=info.temperature, n_best=3)
    medians = interleaved_medians(
        {k: functools.partial(d, logits) for k, d in decoders.items()},
        1,
        _per_round(_batch_repeats(s), s) * s.rounds,
        s.rounds,
    )
    greedy = [r.text for r in decoders["greedy"](logits)]
    rows = []
    for name, decoder in decoders.items():
        texts = [r.text for r in decoder(logits)]
        changed = sum(a != b for a, b in zip(texts, greedy)) / max(1, len(greedy))
        rows.append(DecodeRow(label, name, medians[name] / len(batch) * 1e3, changed))
    return rows


def time_interleaved(
    readers: dict[str, PlateReader], plates: np.ndarray, s: InferSettings
) -> dict[str, tuple[float, float]]:
    """``{runtime: (seconds per batch-1 call, plates/s at s.batch)}``, medians over interleaved rounds."""
    one = np.ascontiguousarray(plates[:1])
    many = np.ascontiguousarray(np.resize(plates, (s.batch, *plates.shape[1:])))
    single = interleaved_medians(
        {k: functools.partial(r.logits, one) for k, r in readers.items()},
        s.warmup,
        _per_round(s.repeats, s) * s.rounds,
        s.rounds,
    )
    batched = interleaved_medians(
        {k: functools.partial(r.logits, many) for k, r in readers.items()},
        1,
        _per_round(_batch_repeats(s), s) * s.rounds,
        s.rounds,
    )
    return {k: (single[k], s.batch / batched[k]) for k in readers}


def _per_round(repeats: int, s: InferSettings) -> int:
    return max(1, repeats // max(1, s.rounds))


def _batch_repeats(s: InferSettings) -> int:
    return max(3, s.repeats // 4, s.rounds)


def _texts(reader: PlateReader, plates: np.ndarray, batch: int) -> list[str]:
    texts: list[str] = []
    for start in range(0, len(plates), batch):
        texts += [r.text for r in reader.decode(reader.logits(plates[start : start + batch]))]
    return texts


def _torch_size_mb(net: Any) -> float:
    return sum(p.numel() * p.element_size() for p in net.parameters()) / 1e6
