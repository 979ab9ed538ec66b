"""Benchmarks with their conditions stated (CPU, threads, versions), as a Markdown table.

    python scripts/benchmark.py infer --model-config crnn crnn_small --threads 2 --out bench.md
    python scripts/benchmark.py infer --checkpoint outputs/train/<run>/checkpoints/last.ckpt

Mode `infer` (the default): latency at batch 1 and throughput at batch 64 for PyTorch eager,
ONNX Runtime fp32 and ONNX Runtime static int8.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "infer")  # infer is the default mode
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = p.add_subparsers(dest="mode", required=True)
    infer = modes.add_parser("infer", help="inference speed: eager vs ONNX Runtime fp32 vs int8")
    infer.add_argument("--model-config", nargs="*", default=None,
                       help="model config names from conf/model (random weights), e.g. crnn crnn_small")
    infer.add_argument("--checkpoint", nargs="*", type=Path, default=[], help="trained checkpoints (.ckpt)")
    infer.add_argument("--threads", type=int, default=None, help="CPU threads for every runtime")
    infer.add_argument("--batch", type=int, default=None, help="throughput batch size (default 64)")
    infer.add_argument("--repeats", type=int, default=None, help="timed batch-1 calls per runtime (default 30)")
    infer.add_argument("--int8-formats", nargs="*", default=None, choices=["qoperator", "qdq"],
                       help="static int8 variants to time (default: both)")
    infer.add_argument("--smoke", action="store_true", help="tiny sizes and few repeats (for tests)")
    infer.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rich.console import Console

    from anpr.benchmark import InferSettings, run_infer

    err = Console(stderr=True)
    settings = InferSettings.smoke(args.threads) if args.smoke else InferSettings(threads=args.threads)
    for name in ("batch", "repeats"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.int8_formats is not None:
        settings.int8_formats = tuple(args.int8_formats)
    configs = args.model_config if args.model_config is not None else ([] if args.checkpoint else ["crnn_small"])
    result = run_infer(configs, args.checkpoint, settings, on_status=lambda m: err.print(m, highlight=False))
    table = result.markdown()
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
        err.print(f"Wrote {args.out}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
