"""Benchmarks with their conditions stated (CPU, threads, versions), as a Markdown table.

    anpr benchmark infer --model-config crnn crnn_small --threads 2 --out bench.md
    python scripts/benchmark.py infer --checkpoint outputs/train/<run>/checkpoints/last.ckpt
    python scripts/benchmark.py train --model-config crnn_small --threads 2 --out train-bench.md

Mode `infer` (the default): latency at batch 1 and throughput at batch 64 for PyTorch eager,
ONNX Runtime fp32 and ONNX Runtime static int8.

Mode `train`: Lightning Trainer (configured as in training) vs a plain PyTorch loop on the same
batches; the model alone on random tensors (channels_last, bf16 autocast, optionally
torch.compile); the data pipeline alone (0 and N loader workers, with and without the in-memory
cache); the loader/model ratio here and against an estimated GPU (see anpr/bench/train.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = p.add_subparsers(dest="mode", required=True)
    infer = modes.add_parser("infer", help="inference speed: eager vs ONNX Runtime fp32 vs int8")
    infer.add_argument(
        "--model-config",
        nargs="*",
        default=None,
        help="model config names from conf/model (random weights), e.g. crnn crnn_small",
    )
    infer.add_argument("--checkpoint", nargs="*", type=Path, default=[], help="trained checkpoints (.ckpt)")
    infer.add_argument("--threads", type=int, default=None, help="CPU threads for every runtime")
    infer.add_argument("--batch", type=int, default=None, help="throughput batch size (default 64)")
    infer.add_argument("--repeats", type=int, default=None, help="timed batch-1 calls per runtime (default 30)")
    infer.add_argument(
        "--int8-formats",
        nargs="*",
        default=None,
        choices=["qoperator", "qdq"],
        help="static int8 variants to time (default: both)",
    )
    infer.add_argument(
        "--decoder",
        choices=["greedy", "grammar"],
        default="grammar",
        help="decoder of the reads compared across runtimes (both are timed either way)",
    )
    infer.add_argument("--smoke", action="store_true", help="tiny sizes and few repeats (for tests)")
    infer.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")

    train = modes.add_parser("train", help="training speed: Lightning vs plain loop, model alone, data pipeline")
    train.add_argument(
        "--model-config",
        nargs="+",
        default=["crnn_small"],
        help="model config names from conf/model (random weights), e.g. crnn crnn_small",
    )
    train.add_argument(
        "--parts", nargs="+", default=None, choices=["loop", "model", "data"], help="what to time (default: all three)"
    )
    train.add_argument("--threads", type=int, default=None, help="torch intra-op threads for the model")
    train.add_argument("--batch", type=int, default=None, help="images per step and per loader batch (default 64)")
    train.add_argument("--warmup", type=int, default=None, help="untimed steps per run (default 2)")
    train.add_argument("--steps", type=int, default=None, help="timed steps per run and round (default 10)")
    train.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2)")
    train.add_argument(
        "--model-steps",
        type=int,
        default=None,
        help="timed steps per variant and round for the model alone (default 5)",
    )
    train.add_argument("--plates", type=int, default=None, help="synthetic plates to write (default 1024)")
    train.add_argument(
        "--data-batches", type=int, default=None, help="timed batches per loader measurement (default 8)"
    )
    train.add_argument(
        "--workers", type=int, default=None, help="loader workers for the multi-worker rows (default: CPUs, at most 8)"
    )
    train.add_argument("--augmentation", default=None, help="conf/augmentation config (default seed)")
    train.add_argument(
        "--ablations",
        action="store_true",
        help="also time Lightning minus the progress bar, minus the logger, and with self.log off",
    )
    train.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    train.add_argument(
        "--gpu-tflops",
        type=float,
        default=None,
        help="effective GPU TFLOPS for the GPU estimate (default 13: RTX 3060-class, fp16 mixed)",
    )
    train.add_argument("--gpu-workers", type=int, default=None, help="loader workers on the GPU machine (default 8)")
    train.add_argument("--smoke", action="store_true", help="tiny sizes and few steps (for tests)")
    train.add_argument("--out", type=Path, default=None, help="also write the Markdown tables here")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "infer")  # infer is the default mode
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rich.console import Console

    err = Console(stderr=True)
    table = train_table(args, err) if args.mode == "train" else infer_table(args, err)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
        err.print(f"Wrote {args.out}", highlight=False)
    return 0


def infer_table(args: argparse.Namespace, err) -> str:
    from anpr.bench.infer import InferSettings, run_infer

    settings = InferSettings.smoke(args.threads) if args.smoke else InferSettings(threads=args.threads)
    settings.decoder = args.decoder
    for name in ("batch", "repeats"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.int8_formats is not None:
        settings.int8_formats = tuple(args.int8_formats)
    configs = args.model_config if args.model_config is not None else ([] if args.checkpoint else ["crnn_small"])
    result = run_infer(configs, args.checkpoint, settings, on_status=lambda m: err.print(m, highlight=False))
    return result.markdown()


def train_table(args: argparse.Namespace, err) -> str:
    from anpr.bench.train import run_train
    from anpr.bench.train_settings import TrainSettings

    settings = TrainSettings.smoke(args.threads) if args.smoke else TrainSettings(threads=args.threads)
    for name in (
        "batch",
        "warmup",
        "steps",
        "model_steps",
        "rounds",
        "plates",
        "data_batches",
        "workers",
        "augmentation",
        "gpu_tflops",
        "gpu_workers",
    ):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.parts is not None:
        settings.parts = tuple(args.parts)
    settings.ablations, settings.compile = args.ablations, args.compile
    result = run_train(args.model_config, settings, on_status=lambda m: err.print(m, highlight=False))
    return result.markdown()


if __name__ == "__main__":
    sys.exit(main())
