"""What the training benchmark measured, and the Markdown report it makes of it.

The timers in :mod:`anpr.bench.train` return rows; :class:`TrainResult` collects them with the
machine's description and renders the tables, the balance of loader and model derived last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anpr.bench.system import load_note
from anpr.bench.table import markdown_table


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
class PipelineRow:
    model: str
    input_size: str
    batch: int
    pipeline: str
    images_per_s: float  # one loader worker's rate


@dataclass
class ModelCost:
    model: str
    input_size: str
    parameters: int
    forward_gflops: float


@dataclass
class TrainResult:
    settings: Any  # anpr.bench.train.TrainSettings
    system: dict[str, Any]
    costs: list[ModelCost] = field(default_factory=list)
    models: list[ModelRow] = field(default_factory=list)
    pipelines: list[PipelineRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        s, info = self.settings, self.system
        lines = [
            "## Training benchmark (`anpr benchmark train`)",
            "",
            f"- CPU: {info['cpu']}; {info['logical_cpus']} logical CPUs; torch CPU capability "
            f"{info['cpu_capability']}; bf16: {info['bf16']}",
            f"- **threads: {s.threads or info['torch_threads']}** (torch intra-op, for the model); "
            "the loader on 1 thread, as a worker",
            *load_note(info.get("load_average"), info.get("logical_cpus")),
            f"- torch {info['torch']}, lightning {info['lightning']}, albumentations {info['albumentations']}, "
            f"OpenCV {info['opencv']}, NumPy {info['numpy']}, Python {info['python']}",
            f"- **batch {s.batch}** everywhere; medians over {s.rounds} interleaved round(s) after {s.warmup} "
            f"warm-up calls: model {s.steps} steps, loader {s.data_batches} batches per round; "
            f"`{s.augmentation}` augmentation on {s.plates} synthetic plates",
            *[f"- {note}" for note in self.notes],
        ]
        return "\n".join(lines + self._model_table() + self._gpu_table() + self._balance_table()) + "\n"

    def _model_rate(self) -> dict[str, float]:
        """Each model's fp32 NCHW training rate: the reference the variants and loaders are held to."""
        return {r.model: r.images_per_s for r in self.models if not (r.channels_last or r.bf16 or r.compiled)}

    def _gpu_rate(self) -> dict[str, float]:
        return {c.model: gpu_images_per_s(c.forward_gflops, self.settings.gpu_tflops) for c in self.costs}

    def _model_table(self) -> list[str]:
        base = self._model_rate()
        rows = [
            (
                r.model,
                r.input_size,
                r.batch,
                _yn(r.channels_last),
                _yn(r.bf16),
                _yn(r.compiled),
                f"{r.images_per_s:.1f}",
                f"{r.images_per_s / base[r.model]:.2f}x" if r.model in base else "-",
            )
            for r in self.models
        ]
        header = (
            "model",
            "input",
            "batch",
            "channels_last",
            "bf16 autocast",
            "torch.compile",
            "images/s",
            "vs fp32 NCHW",
        )
        return _section(
            "### The model alone: a training step on random tensors",
            "Forward, CTC loss (float32), backward and AdamW step; no data loading: the fastest this network "
            "trains here. bf16: `torch.autocast('cpu', dtype=torch.bfloat16)` around forward and loss.",
            markdown_table(header, "llrlllrr", rows),
        )

    def _gpu_table(self) -> list[str]:
        s, gpu = self.settings, self._gpu_rate()
        rows = [
            (
                c.model,
                c.input_size,
                f"{c.parameters / 1e6:.2f}",
                f"{c.forward_gflops:.3f}",
                f"{gpu[c.model]:.0f}",
                f"{3 * gpu[c.model]:.0f}",
            )
            for c in self.costs
        ]
        return _section(
            "### GPU estimate",
            f"Training images/s of a GPU sustaining {s.gpu_tflops:g} effective TFLOPS (`--gpu-tflops`; default: an "
            "RTX 3060-class card at about half its dense fp16 tensor-core peak) = FLOP/s / (3 x forward FLOPs per "
            "plate), the backward costing about twice the forward. A network with few FLOPs per plate is more "
            "likely bound by kernel launches and the sequential LSTM: its real rate is probably lower, so the "
            "estimate asks more of the loader, not less. The loader's target is 3x this rate.",
            markdown_table(
                ("model", "input", "params (M)", "forward GFLOPs/plate", "est. GPU images/s", "needed (3x)"),
                "llrrrr",
                rows,
            ),
        )

    def _balance_table(self) -> list[str]:
        s, model, gpu = self.settings, self._model_rate(), self._gpu_rate()
        rows = []
        for r in self.pipelines:
            loader = r.images_per_s * s.gpu_workers
            rows.append(
                (
                    r.model,
                    r.pipeline,
                    f"{r.images_per_s:.0f}",
                    f"{r.images_per_s / model[r.model]:.2f}" if r.model in model else "-",
                    f"{loader:.0f}",
                    f"{loader / gpu[r.model]:.2f}" if r.model in gpu else "-",
                    _yn(loader >= 3 * gpu[r.model]) if r.model in gpu else "-",
                )
            )
        workers = f"x{s.gpu_workers}"
        return _section(
            "### Loader vs model: here and on the GPU",
            "One loader worker's images/s (samples + collate on one thread, uint8 crops normalized later on "
            "the device), divided by the model's fp32 NCHW rate here (above 1: one worker keeps up), and "
            f"times the `gpu12gb` profile's {s.gpu_workers} workers (assuming free cores as fast as these) "
            "divided by the GPU estimate. With `augmentation=seed_on_device` the workers only copy crops out "
            "of the cache and the GPU augments whole batches.",
            markdown_table(
                (
                    "model",
                    "pipeline",
                    "one worker images/s",
                    "one worker / model here",
                    f"loader {workers} images/s",
                    f"loader {workers} / GPU",
                    "3x met",
                ),
                "llrrrrl",
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
