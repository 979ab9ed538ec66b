"""Fit a model's confidence temperature on held-out plates and store it in the model file.

    anpr calibrate model.ckpt                               # 2,000 fresh synthetic plates
    anpr calibrate model.onnx --images-dir my/images --labels-file my/labels.txt
    anpr calibrate model.ckpt --out model.calibrated.ckpt
    anpr calibrate reader.json                              # a reader of several models or views
    anpr calibrate reader_small.json --condition small16    # on plates as a detector hands them over

Afterwards every reader of the file (predict, evaluate, PlateReader, an ONNX export of the
checkpoint) reports calibrated confidences; the reads themselves do not change. Calibrate on
plates the model was not trained on. A reader file's combined confidence (the mean probability
of its readings, under-confident) gets a power instead; calibrate its members first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="checkpoint (.ckpt), ONNX file (.onnx) or reader file (.json)")
    p.add_argument("--images-dir", type=Path, default=None, help="labelled plates to fit on (default: synthetic)")
    p.add_argument("--labels-file", type=Path, default=None, help="lines 'image_name<TAB>TEXT'")
    p.add_argument("--synth", type=int, default=2000, help="synthetic plates to render when no labels are given")
    p.add_argument("--seed", type=int, default=None, help="renderer seed of those plates (default: a held-out one)")
    p.add_argument(
        "--condition",
        default=None,
        help="fit on the plates as a detector hands them over: one of anpr perturb's conditions "
        "(loose, cut, rotate7, jpeg12, night, small16, motion4), e.g. small16 for a reader of small crops",
    )
    p.add_argument("--out", type=Path, default=None, help="write a calibrated copy here (default: update the file)")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from anpr.cli.console import report_error
    from anpr.data.images import ImageReadError, read_image
    from anpr.data.labels import DatasetError, read_labels
    from anpr.export.calibration import CALIBRATION_SEED, calibrate, calibrate_reader, write_calibration
    from anpr.inference import CheckpointError, PlateReader
    from anpr.inference.ensemble import write_confidence_power

    if (args.images_dir is None) != (args.labels_file is None):
        report_error("give both --images-dir and --labels-file, or neither (synthetic plates)")
        return 2
    from anpr.evaluate.perturb import CONDITIONS

    if args.condition is not None and args.condition not in CONDITIONS:
        report_error(f"unknown condition {args.condition!r}: use one of {', '.join(CONDITIONS)}")
        return 2
    try:
        # the reader's own decoding: a combined reader's power is fitted on the reads it makes
        reader = PlateReader.from_path(args.model)
        combined = reader.readings_per_plate > 1
        if args.labels_file is None:
            from anpr.inference.sources import sample_plates

            seed = CALIBRATION_SEED if args.seed is None else args.seed
            images, texts, _ = sample_plates(args.synth, seed=seed)
            source, rgb = f"{args.synth} synthetic plates, renderer seed {seed}", False
        else:
            records = read_labels(args.labels_file)
            images = []
            for r in records:
                try:
                    images.append(read_image(args.images_dir / r.image_name))
                except ImageReadError as err:
                    raise DatasetError(f"{r.where}: {err}") from err
            texts, source, rgb = [r.text for r in records], str(args.labels_file), True
        if args.condition is not None:
            images, source = perturbed(images, args.condition, rgb), f"{source}, {args.condition}"
        if combined:
            fitted = calibrate_reader(reader, images, texts, source, rgb=rgb)
        else:
            calibration = calibrate(reader, images, texts, source, rgb=rgb)
    except (CheckpointError, DatasetError) as err:
        report_error(str(err))
        return 2
    if combined:
        out = write_confidence_power(reader.source, fitted["confidence_power"], source, args.out)
        print(
            f"Confidence power {fitted['confidence_power']:.4g} "
            f"(reads {fitted['accuracy']:.1%} right on {source}); wrote {out}"
        )
        return 0
    out = write_calibration(args.model, calibration, args.out)
    print(
        f"Temperature {calibration['temperature']} (mean -log P(true reading) {calibration['nll_before']} -> "
        f"{calibration['nll_after']} on {source}); wrote {out}"
    )
    return 0


def perturbed(images: list, condition: str, rgb: bool) -> list:
    """Each image as ``condition`` damages it, seeded by its position (the same on every run)."""
    import cv2

    from anpr.evaluate.perturb import CONDITIONS, image_rng

    damage = CONDITIONS[condition]
    if not rgb:
        return [damage(image, image_rng(condition, str(i))) for i, image in enumerate(images)]
    swap = cv2.COLOR_RGB2BGR  # the damage is defined on BGR crops, as OpenCV loads them
    return [
        cv2.cvtColor(damage(cv2.cvtColor(im, swap), image_rng(condition, str(i))), cv2.COLOR_BGR2RGB)
        for i, im in enumerate(images)
    ]


if __name__ == "__main__":
    sys.exit(main())
