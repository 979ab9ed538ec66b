"""Export a training checkpoint to ONNX, check parity, optionally add a measured int8 model.

anpr export outputs/train/<run>/checkpoints/last.ckpt --out model.onnx [--int8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="Lightning checkpoint (.ckpt) written by anpr train")
    p.add_argument("--out", type=Path, default=None, help="ONNX file to write (default: CHECKPOINT with .onnx)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset, 17 or newer (default 17)")
    p.add_argument("--parity-images", type=int, default=24, help="synthetic plates for the parity check")
    p.add_argument("--int8", action="store_true", help="also build a static int8 model, kept only if faster")
    p.add_argument("--int8-out", type=Path, default=None, help="int8 file (default: OUT with .int8.onnx)")
    p.add_argument("--force-int8", action="store_true", help="write the int8 file even if it is not better")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads for the int8 timing")
    p.add_argument("--calibration-size", type=int, default=128, help="synthetic plates to calibrate int8 on")
    p.add_argument("--eval-size", type=int, default=256, help="synthetic plates to compare int8 with fp32 on")
    p.add_argument(
        "--max-accuracy-drop",
        type=float,
        default=0.01,
        help="largest sequence-accuracy loss accepted for int8 (default 0.01)",
    )
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from anpr.cli.console import report_error
    from anpr.export.onnx_export import export_onnx, parity_check
    from anpr.models.model_file import CheckpointError, load_checkpoint

    out = args.out or args.checkpoint.with_suffix(".onnx")
    try:
        net, info = load_checkpoint(args.checkpoint)
    except CheckpointError as err:
        report_error(str(err))
        return 2
    export_onnx(net, info, out, args.opset)
    print(
        f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB, opset {args.opset}, input 'images' "
        f"N x 3 x {info.preprocessing['image_height']} x {info.preprocessing['image_width']}, output 'logits')"
    )
    report = parity_check(net, info, out, count=args.parity_images)
    print(report.summary())
    status = 0 if report.ok else 1
    if args.int8:
        status = max(status, int8(args, out, info))
    return status


def int8(args: argparse.Namespace, fp32_path: Path, info) -> int:
    from anpr.bench.system import cpu_int8_features, cpu_model
    from anpr.export.quantize import build_int8

    target = args.int8_out or fp32_path.with_suffix(".int8.onnx")
    print(
        f"\nStatic int8 quantization, measured here: {cpu_model()} "
        f"({', '.join(cpu_int8_features()) or 'no AVX2/VNNI'}), threads={args.threads or 'default'}"
    )
    report = build_int8(
        fp32_path,
        info,
        target,
        threads=args.threads,
        calibration_size=args.calibration_size,
        eval_size=args.eval_size,
        force=args.force_int8,
        max_accuracy_drop=args.max_accuracy_drop,
    )
    print(f"Calibrated on {args.calibration_size} and compared on {args.eval_size} other {report.images_source}.")
    print(report.table())
    for note in report.notes:
        print(f"  {note}")
    if report.chosen is not None:
        print(
            f"Wrote {report.written} ({report.chosen.name}): faster than fp32 on this machine. "
            "Speed-ups depend on the CPU (int8 gains come from VNNI/dot-product instructions): "
            "measure again on the device you deploy to (anpr benchmark)."
        )
        return 0
    if report.written is not None:
        print(
            "\n" + "!" * 78 + f"\nWARNING: wrote {report.written} because of --force-int8, but no int8 variant "
            "beat fp32 at both batch sizes with accuracy kept on this machine.\n" + "!" * 78,
            file=sys.stderr,
        )
        return 0
    print(
        f"\nNo int8 file written: no variant passed (faster than fp32 at batch 1 and batch 64, accuracy "
        f"kept) on this machine; the reasons are above. Use {fp32_path} (or --force-int8).",
        file=sys.stderr,
    )
    if target.exists():
        print(f"WARNING: {target} is left from an earlier export and does not belong to this model.", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
