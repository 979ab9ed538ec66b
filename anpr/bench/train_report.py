"""What the training benchmark measured, and the Markdown report it makes of it.

Each timer returns rows; :class:`TrainResult` collects them with the machine's description and
renders every table, so that a row's meaning and its column sit side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from anpr.bench.system import load_note
from anpr.bench.table import markdown_table
from anpr.bench.train_settings import (
    AS_TRAINED,
    CACHE_AUG,
    CACHE_DEVICE_AUG,
    DEVICE_AUG_SOURCE,
    FILES_AUG,
    PLAIN,
    TrainSettings,
)


@dataclass
class LoopRow:
    model: str
    input_size: str
    batch: int
    loop: str
    images_per_s: float
    startup_s: float
    per_round: Sequence[float] = ()


@dataclass
class ModelRow:
    model: str
    input_size: str
    batch: int
    channels_last: bool
    bf16: bool
    compiled: bool
    images_per_s: float


@dataclass
class DataRow:
    model: str
    input_size: str
    batch: int
    pipeline: str
    workers: int
    images_per_s: float

    @property
    def per_worker(self) -> float:
        return self.images_per_s / max(1, self.workers)


@dataclass
class StageCost:
    model: str
    stage: str
    us_when_applied: float  # microseconds per plate when the stage runs
    probability: float = 1.0  # how often it runs (an augmentation's p)

    @property
    def expected_us(self) -> float:
        return self.us_when_applied * self.probability


@dataclass
class ModelCost:
    model: str
    input_size: str
    parameters: int
    forward_gflops: float


@dataclass
class TrainResult:
    settings: TrainSettings
    system: dict[str, Any]
    costs: list[ModelCost] = field(default_factory=list)
    loops: list[LoopRow] = field(default_factory=list)
    models: list[ModelRow] = field(default_factory=list)
    data: list[DataRow] = field(default_factory=list)
    stages: list[StageCost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        s, sysinfo = self.settings, self.system
        lines = [
            "## Training benchmark (`scripts/benchmark.py train`)",
            "",
            f"- CPU: {sysinfo['cpu']}; {sysinfo['logical_cpus']} logical CPUs; torch CPU capability "
            f"{sysinfo['cpu_capability']}; bf16: {sysinfo['bf16']}",
            f"- **threads: {s.threads or sysinfo['torch_threads']}** (torch intra-op, for the loops and the "
            "model); the data pipeline: 1 thread per worker, the 0-worker rows on 1 thread too",
            *load_note(sysinfo.get("load_average"), sysinfo.get("logical_cpus")),
            f"- torch {sysinfo['torch']}, lightning {sysinfo['lightning']}, albumentations "
            f"{sysinfo['albumentations']}, OpenCV {sysinfo['opencv']}, NumPy {sysinfo['numpy']}, "
            f"Python {sysinfo['python']}",
            f"- **batch {s.batch}** everywhere; loops: {s.warmup} warm-up + {s.steps} timed steps per run, "
            f"{s.rounds} interleaved round(s); model alone: median of {s.model_steps * s.rounds} steps after "
            f"{s.warmup} warm-up; data: {s.data_batches} timed batches per measurement, {s.rounds} round(s), "
            f"`{s.augmentation}` augmentation, {s.plates} synthetic plates",
            *[f"- {note}" for note in self.notes],
        ]
        if self.loops:
            lines += self._loop_table()
        if self.models:
            lines += self._model_table()
        if self.data:
            lines += self._data_table()
        if self.stages:
            lines += self._stage_table()
        if self.data or self.models:
            lines += self._ratio_tables()
        return "\n".join(lines) + "\n"

    def _loop_table(self) -> list[str]:
        plain = {r.model: r for r in self.loops if r.loop == PLAIN}
        rows = []
        for r in self.loops:
            base = plain.get(r.model)
            ratio = f"{r.images_per_s / base.images_per_s:.3f}x" if base else "-"
            rounds = ", ".join(f"{rate:.1f}" for rate in r.per_round)
            rows.append(
                (r.model, r.input_size, r.batch, r.loop, f"{r.images_per_s:.1f}", ratio, f"{r.startup_s:.2f}", rounds)
            )
        out = _section(
            "### Lightning Trainer vs a plain PyTorch loop",
            "Same model and initial weights, same batches, AdamW + OneCycleLR over the same steps, gradient "
            "clipping at norm 1.0, fp32. *As in training*: `conf/trainer/default.yaml` (log every 10 steps), "
            "the callbacks of `conf/callbacks/default.yaml` minus the checkpoint writers (RichProgressBar, "
            "LearningRateMonitor, EarlyStopping, ValidationSummary, PredictionGrid), the TensorBoard logger, "
            "the sanity check and one validation batch at the epoch's end (not in the timed steps). "
            "*Bare*: no callbacks, logger, progress bar, model summary or validation; the module's "
            "`self.log` calls still run. Start-up: from `fit()` (or the loop's start) to the first step.",
            markdown_table(
                ("model", "input", "batch", "loop", "images/s", "vs plain loop", "start-up (s)", "images/s per round"),
                "llrlrrrl",
                rows,
            ),
        )
        spread = max((max(r.per_round) - min(r.per_round)) / r.images_per_s for r in self.loops if r.per_round)
        if spread > 0.1:
            out += [
                "",
                f"**Rounds differ by up to {spread:.0%}**: other work competed for the CPU; "
                "compare with care, or rerun on a quiet machine.",
            ]
        for model, base in plain.items():
            trained = next((r for r in self.loops if r.model == model and r.loop == AS_TRAINED), None)
            if trained:
                ratio = trained.images_per_s / base.images_per_s
                verdict = "meets" if ratio >= 0.95 else "misses"
                out.append("")
                out.append(
                    f"{model}: Lightning as in training runs at {ratio:.3f}x the plain loop's rate "
                    f"({verdict} the 0.95x target)."
                )
        return out

    def _model_table(self) -> list[str]:
        base = {r.model: r for r in self.models if not (r.channels_last or r.bf16 or r.compiled)}
        rows = []
        for r in self.models:
            b = base.get(r.model)
            ratio = f"{r.images_per_s / b.images_per_s:.2f}x" if b else "-"
            rows.append(
                (
                    r.model,
                    r.input_size,
                    r.batch,
                    _yn(r.channels_last),
                    _yn(r.bf16),
                    _yn(r.compiled),
                    f"{r.images_per_s:.1f}",
                    ratio,
                )
            )
        return _section(
            "### The model alone: a training step on random tensors",
            "Forward, CTC loss (float32), backward and AdamW step; no data loading. bf16: "
            "`torch.autocast('cpu', dtype=torch.bfloat16)` around forward and loss.",
            markdown_table(
                (
                    "model",
                    "input",
                    "batch",
                    "channels_last",
                    "bf16 autocast",
                    "torch.compile",
                    "images/s",
                    "vs fp32 NCHW",
                ),
                "llrlllrr",
                rows,
            ),
        )

    def _data_table(self) -> list[str]:
        return _section(
            f"### The data pipeline alone (`{self.settings.augmentation}` augmentation)",
            "Per sample: read + decode + resize to the model's input (files) or a copy out of the in-memory "
            "cache, then augmentation and the uint8 CHW tensor (normalized on the device); then collate. "
            "0 workers: the main process on one thread, the rate of one loader worker.",
            markdown_table(
                ("model", "input", "batch", "pipeline", "workers", "images/s", "images/s per worker"),
                "llrlrrr",
                [
                    (
                        r.model,
                        r.input_size,
                        r.batch,
                        r.pipeline,
                        r.workers,
                        f"{r.images_per_s:.0f}",
                        f"{r.per_worker:.0f}",
                    )
                    for r in self.data
                ],
            ),
        )

    def _stage_table(self) -> list[str]:
        return _section(
            "### Where a loader worker's time goes (one thread, per plate)",
            "Each stage timed alone over the same plates. An augmentation is timed when it fires; the "
            "expected cost is that times its probability p. *Augmentation, all* is the whole Compose as "
            "configured (its overhead included).",
            markdown_table(
                ("model", "stage", "µs when applied", "p", "µs per plate"),
                "llrrr",
                [
                    (r.model, r.stage, f"{r.us_when_applied:.0f}", f"{r.probability:g}", f"{r.expected_us:.0f}")
                    for r in self.stages
                ],
            ),
        )

    def _ratio_tables(self) -> list[str]:
        out: list[str] = []
        model_rate = {r.model: r.images_per_s for r in self.models if not (r.channels_last or r.bf16 or r.compiled)}
        one = {(r.model, r.pipeline): r.images_per_s for r in self.data if r.workers == 0}
        if model_rate and self.data:
            out += self._cpu_ratio_table(model_rate, one)
        if self.costs:
            out += self._gpu_table(one)
        return out

    def _cpu_ratio_table(self, model_rate: dict[str, float], one: dict[tuple[str, str], float]) -> list[str]:
        many = {(r.model, r.pipeline): r for r in self.data if r.workers > 0}
        rows = []
        for (model, pipeline), row in many.items():
            if model not in model_rate or pipeline not in (FILES_AUG, CACHE_AUG):
                continue
            rate = model_rate[model]
            single = one.get((model, pipeline))
            rows.append(
                (
                    model,
                    f"{rate:.1f}",
                    pipeline,
                    f"{row.images_per_s:.0f} ({row.workers})",
                    f"{row.images_per_s / rate:.2f}",
                    "-" if single is None else f"{single / rate:.2f}",
                )
            )
        return _section(
            "### Data pipeline vs model on this CPU",
            "Loader images/s divided by the model's training images/s (fp32, NCHW, random tensors): "
            "above 1 the loader keeps up.",
            markdown_table(
                (
                    "model",
                    "model images/s",
                    "pipeline",
                    "loader images/s (workers)",
                    "loader / model",
                    "one worker / model",
                ),
                "lrlrrr",
                rows,
            ),
        )

    def _gpu_table(self, one: dict[tuple[str, str], float]) -> list[str]:
        s = self.settings
        rows = []
        for cost in self.costs:
            gpu = gpu_images_per_s(cost.forward_gflops, s.gpu_tflops)
            pipelines = [
                p for p in (FILES_AUG, CACHE_AUG, CACHE_DEVICE_AUG) if (cost.model, DEVICE_AUG_SOURCE.get(p, p)) in one
            ] or ["-"]
            for pipeline in pipelines:
                single = one.get((cost.model, DEVICE_AUG_SOURCE.get(pipeline, pipeline)))
                loader = "-" if single is None else f"{single * s.gpu_workers:.0f}"
                ratio = "-" if single is None else f"{single * s.gpu_workers / gpu:.2f}"
                met = "-" if single is None else _yn(single * s.gpu_workers >= 3 * gpu)
                rows.append(
                    (
                        cost.model,
                        f"{cost.parameters / 1e6:.2f}",
                        f"{cost.forward_gflops:.3f}",
                        f"{gpu:.0f}",
                        f"{3 * gpu:.0f}",
                        pipeline,
                        loader,
                        ratio,
                        met,
                    )
                )
        return _section(
            f"### GPU estimate (`gpu12gb`: {s.gpu_workers} loader workers)",
            f"Assumed effective GPU throughput: {s.gpu_tflops:g} TFLOPS (`--gpu-tflops`; default: an RTX "
            "3060-class card, about half its ~25 TFLOPS dense fp16 tensor-core peak with fp32 accumulation). "
            "Training images/s = effective FLOP/s / (3 x forward FLOPs per plate): backward costs about "
            f"twice the forward. Loader x{s.gpu_workers} = the one-worker rate measured here x "
            f"{s.gpu_workers}, assuming {s.gpu_workers} free cores like this machine's; the target is "
            "3x the GPU's rate. With `augmentation=seed_on_device` the workers only copy crops out of "
            "the cache (the *in-memory cache, no augmentation* rate) and the GPU augments whole batches "
            "(kornia; see the stage table for its cost on this CPU). A network with few FLOPs per plate "
            "is more likely bound by kernel "
            "launches and the sequential LSTM than by FLOPs on a GPU: its real rate is probably lower "
            "than this estimate, which asks more of the loader, not less.",
            markdown_table(
                (
                    "model",
                    "params (M)",
                    "forward GFLOPs/plate",
                    "est. GPU images/s",
                    "needed (3x)",
                    "pipeline",
                    f"loader x{s.gpu_workers} images/s",
                    "loader / GPU",
                    "3x met",
                ),
                "lrrrrlrrl",
                rows,
            ),
        )


def _section(heading: str, intro: str, table: list[str]) -> list[str]:
    """A report section: heading, what was measured, then the table."""
    return ["", heading, "", intro, "", *table]


def gpu_images_per_s(forward_gflops: float, tflops: float) -> float:
    """Training images/s a GPU sustaining ``tflops`` reaches: forward + backward = 3 x forward FLOPs."""
    return tflops * 1e12 / (3 * forward_gflops * 1e9)


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"
