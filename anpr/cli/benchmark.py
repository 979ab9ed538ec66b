"""Benchmarks with their conditions stated (CPU, threads, versions), as a Markdown table.

    anpr benchmark infer --model-config crnn crnn_small --threads 2 --out bench.md
    anpr benchmark infer --checkpoint outputs/train/<run>/checkpoints/last.ckpt
    anpr benchmark train --model-config crnn_small --threads 2 --out train-bench.md
    anpr benchmark busy --out busy.md
    anpr benchmark read pretrained pretrained-v1 pretrained-v1@full+tight

Mode `infer` (the default): latency at batch 1 and throughput at batch 64 for PyTorch eager,
ONNX Runtime fp32 and ONNX Runtime static int8.

Mode `busy`: short demo training runs beside 0, 1 and 2 CPU-bound programs that the benchmark
starts and stops itself, with the thread governor on and off: plates/s, the slowdown and the
fair-share slowdown (see anpr/bench/busy.py).

Mode `read`: whole reads of readers side by side, `MODEL@VIEW+VIEW` in views (anpr/bench/read.py).

Mode `train`: whether the data pipeline keeps up with the model: a training step of the model
alone on random tensors (channels_last, bf16 autocast, optionally torch.compile) against one
loader worker's rate (files, in-memory cache, augmentation on the GPU), here and, from FLOPs,
on a GPU (see anpr/bench/train.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page). Defaults live in the settings
    classes (:class:`~anpr.bench.infer.InferSettings`, :class:`~anpr.bench.train.TrainSettings`);
    an option left out keeps the class's value, which its help shows."""
    from anpr.bench.busy import BusySettings
    from anpr.bench.infer import DEFAULT_MODEL_CONFIGS, InferSettings
    from anpr.bench.read import add_read_mode
    from anpr.bench.train import TrainSettings
    from anpr.decoding import DECODERS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = p.add_subparsers(dest="mode", required=True)
    infer = modes.add_parser("infer", help="inference speed: eager vs ONNX Runtime fp32 vs int8")
    defaults = InferSettings()
    configs = " ".join(DEFAULT_MODEL_CONFIGS)
    infer.add_argument(
        "--model-config", nargs="*", help=f"conf/model names (random weights; default {configs} without --checkpoint)"
    )
    infer.add_argument("--checkpoint", nargs="*", type=Path, default=[], help="trained checkpoints (.ckpt)")
    infer.add_argument("--threads", type=int, help="CPU threads for every runtime (default: all)")
    setting(infer, defaults, "batch", int, "throughput batch size")
    setting(infer, defaults, "repeats", int, "timed batch-1 calls per runtime")
    setting(
        infer, defaults, "int8_formats", str, "static int8 variants to time", nargs="*", choices=["qoperator", "qdq"]
    )
    setting(infer, defaults, "decoder", str, "decoder of the reads compared across runtimes", choices=DECODERS)
    infer.add_argument("--smoke", action="store_true", help="tiny sizes and few repeats (for tests)")
    infer.add_argument("--out", type=Path, help="also write the Markdown table here")

    train = modes.add_parser("train", help="training speed: the model alone vs the data pipeline, here and on a GPU")
    defaults = TrainSettings()
    train.add_argument(
        "--model-config", nargs="+", default=list(DEFAULT_MODEL_CONFIGS), help=f"conf/model names (default {configs})"
    )
    train.add_argument("--threads", type=int, help="torch intra-op threads for the model (default: torch's)")
    setting(train, defaults, "batch", int, "images per model step and per loader batch")
    setting(train, defaults, "warmup", int, "untimed calls per variant")
    setting(train, defaults, "steps", int, "timed model steps per variant and round")
    setting(train, defaults, "rounds", int, "interleaved rounds")
    setting(train, defaults, "plates", int, "synthetic plates to write")
    setting(train, defaults, "data_batches", int, "timed loader batches per pipeline and round")
    setting(train, defaults, "augmentation", str, "conf/augmentation config")
    train.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    setting(train, defaults, "gpu_tflops", float, "effective GPU TFLOPS for the GPU estimate")
    setting(train, defaults, "gpu_workers", int, "loader workers on the GPU machine")
    train.add_argument("--smoke", action="store_true", help="tiny sizes and few steps (for tests)")
    train.add_argument("--out", type=Path, help="also write the Markdown tables here")
    busy = modes.add_parser("busy", help="training beside other CPU-bound programs it starts itself")
    defaults = BusySettings()
    setting(busy, defaults, "competitors", int, "CPU-bound programs beside each pair of runs", nargs="+")
    setting(busy, defaults, "steps", int, "optimizer steps per training run")
    setting(busy, defaults, "plates", int, "synthetic plates rendered once for the runs")
    busy.add_argument("--out", type=Path, help="also write the Markdown table here")
    add_read_mode(modes)
    return p


def setting(parser: argparse.ArgumentParser, defaults: object, name: str, kind: type, help: str, **kw) -> None:
    """``--name`` overriding the settings field ``name``; its help shows the field's default."""
    value = getattr(defaults, name)
    shown = " ".join(map(str, value)) if isinstance(value, (tuple, list)) else value
    parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=f"{help} (default {shown})", **kw)


SETTINGS = {
    "infer": "batch repeats int8_formats decoder",
    "train": "batch warmup steps rounds plates data_batches augmentation gpu_tflops gpu_workers",
    "busy": "competitors steps plates",
}


def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "infer")  # infer is the default mode
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rich.console import Console

    err = Console(stderr=True)
    names = SETTINGS.get(args.mode, "").split()
    overrides = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    status = lambda message: err.print(message, highlight=False)  # noqa: E731
    if args.mode == "busy":
        from dataclasses import replace

        from anpr.bench.busy import BusySettings, run_busy

        settings = replace(BusySettings(), **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})
        table = run_busy(settings, on_status=status)
    elif args.mode == "read":
        from anpr.bench.read import ReadSettings, run_read

        table = run_read(args.readers, ReadSettings(threads=args.threads, images=args.images), on_status=status)
    elif args.mode == "train":
        from anpr.bench.train import TrainSettings, run_train

        settings = TrainSettings.configured(args.smoke, args.threads, compile=args.compile)
        table = run_train(args.model_config, settings.with_overrides(overrides), on_status=status).markdown()
    else:
        from anpr.bench.infer import InferSettings, default_configs, run_infer

        settings = InferSettings.configured(args.smoke, args.threads).with_overrides(overrides)
        configs = default_configs(args.model_config, args.checkpoint)
        table = run_infer(configs, args.checkpoint, settings, on_status=status).markdown()
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
        err.print(f"Wrote {args.out}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
