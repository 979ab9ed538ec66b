"""Two readers on the same plates: the plates only one of them reads, and the CLI's --compare."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import torch
from helpers import script_main, tiny_model_files, write_rec_dataset
from helpers.models import MODEL_FILES_CONTRACT

from anpr.data.labels import LabelRecord
from anpr.evaluate.comparison import compare_reads, differing_plates
from anpr.evaluate.report import Sample
from anpr.inference import PlateReader, load_checkpoint

TRUTHS = ["KL07AB1234", "MH12DE1433", "DL4CAF1234", "22BH1234AA", "TN01A1", "KA05MN4321"]
LAYOUTS = ["one-line", "one-line", "two-line", "two-line", "one-line", "two-line"]


def reads(*preds: str) -> list[Sample]:
    records = [LabelRecord(Path("labels.txt"), i + 1, f"{i}.png", t) for i, t in enumerate(TRUTHS)]
    return [Sample(r, p, 0.5, layout) for r, p, layout in zip(records, preds, LAYOUTS)]


def test_the_plates_only_one_reader_reads_are_counted_and_listed() -> None:
    first = reads("KL07AB1234", "MH12DE1438", "DL4CAF1234", "22BH1234AA", "TN01A7", "KA05MN4321")
    second = reads("KL07AB1234", "MH12DE1433", "DL4CAF123", "22BH1234AA", "TN01A1", "KA05MN4327")
    comparison = compare_reads(first, second)
    assert comparison["first_sequence_accuracy"] == pytest.approx(4 / 6)
    assert comparison["second_sequence_accuracy"] == pytest.approx(4 / 6)
    assert comparison["points_gained"] == 0.0
    assert (comparison["only_first"], comparison["only_second"]) == (2, 2)
    assert comparison["p_value"] == pytest.approx(1.0)
    assert [p["image"] for p in comparison["plates"]] == ["1.png", "2.png", "4.png", "5.png"]
    assert comparison["plates"][1] == {
        "image": "2.png",
        "truth": "DL4CAF1234",
        "first": "DL4CAF1234",
        "second": "DL4CAF123",
        "layout": "two-line",
    }
    one_line, two_line = comparison["by_layout"]["one-line"], comparison["by_layout"]["two-line"]
    assert (one_line["only_first"], one_line["only_second"]) == (0, 2)
    assert (two_line["only_first"], two_line["only_second"]) == (2, 0)
    assert differing_plates(first, second, count=3) == [1, 2, 4]


def test_reads_of_other_plates_are_refused() -> None:
    first = reads(*TRUTHS)
    with pytest.raises(ValueError, match="same images"):
        compare_reads(first, first[::-1])


def moved_copy(checkpoint: Path, path: Path) -> Path:
    """The checkpoint with its classifier's weights moved: a second model that reads otherwise."""
    net, info = load_checkpoint(checkpoint)
    torch.manual_seed(3)
    with torch.no_grad():
        net.classifier.weight.add_(torch.randn_like(net.classifier.weight))
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "anpr": {**info.contract.to_dict(), "model": dict(info.model)}}, path)
    return path


def test_evaluate_compare_reports_the_second_model_against_the_first(tmp_path) -> None:
    checkpoint, _, _, _ = tiny_model_files()
    other = moved_copy(checkpoint, tmp_path / "other.ckpt")

    images_dir, labels_file = write_rec_dataset(tmp_path / "set", TRUTHS)
    names = sorted(p.name for p in images_dir.iterdir())
    first_reads = [r.text for r in PlateReader.from_path(checkpoint).read([images_dir / n for n in names])]
    second_reads = [r.text for r in PlateReader.from_path(other).read([images_dir / n for n in names])]
    # Truths taken from each model's reads, so each model reads some plates the other does not.
    truths = [first_reads[0], first_reads[1], second_reads[2], second_reads[3], TRUTHS[4], TRUTHS[5]]
    truths = [t or text for t, text in zip(truths, TRUTHS)]
    labels_file.write_text("".join(f"{n}\t{t}\n" for n, t in zip(names, truths)))
    out = tmp_path / "report"
    args = [str(checkpoint), "--images-dir", str(images_dir), "--labels-file", str(labels_file), "--out", str(out)]
    assert script_main("evaluate")([*args, "--compare", str(other)]) == 0

    comparison = json.loads((out / "comparison.json").read_text())
    only_first = sum(a == t != b for a, b, t in zip(first_reads, second_reads, truths))
    only_second = sum(b == t != a for a, b, t in zip(first_reads, second_reads, truths))
    assert only_first + only_second > 0
    assert (comparison["only_first"], comparison["only_second"]) == (only_first, only_second)
    assert comparison["second_sequence_accuracy"] == pytest.approx(
        sum(b == t for b, t in zip(second_reads, truths)) / 6
    )
    assert comparison["second"] == str(other)
    sheet = cv2.imread(str(out / "comparison.png"))
    assert sheet.shape[0] == 2 * (MODEL_FILES_CONTRACT.image_height + 22 + 4)  # a row per model, crops as it sees them
    assert sheet.shape[1] > (only_first + only_second) * (
        MODEL_FILES_CONTRACT.image_width + 4
    )  # a column per differing plate


def test_compare_with_conditions_pairs_the_reads_of_each_perturbed_copy(tmp_path) -> None:
    from anpr.evaluate.perturb import perturb_dataset

    checkpoint, _, _, _ = tiny_model_files()
    other = moved_copy(checkpoint, tmp_path / "other.ckpt")
    images_dir, labels_file = write_rec_dataset(tmp_path / "set", TRUTHS)
    names = sorted(p.name for p in images_dir.iterdir())
    (loose,) = perturb_dataset(images_dir, labels_file, tmp_path / "own", ["loose"])
    first_reads = [r.text for r in PlateReader.from_path(checkpoint).read([loose / "images" / n for n in names])]
    second_reads = [r.text for r in PlateReader.from_path(other).read([loose / "images" / n for n in names])]
    truths = [first_reads[0], first_reads[1], second_reads[2], second_reads[3], TRUTHS[4], TRUTHS[5]]
    truths = [t or text for t, text in zip(truths, TRUTHS)]
    labels_file.write_text("".join(f"{n}\t{t}\n" for n, t in zip(names, truths)))
    out = tmp_path / "report"
    args = [str(checkpoint), "--images-dir", str(images_dir), "--labels-file", str(labels_file), "--out", str(out)]
    assert script_main("evaluate")([*args, "--compare", str(other), "--conditions", "loose"]) == 0

    comparison = json.loads((out / "comparison.json").read_text())
    assert list(comparison["by_condition"]) == ["clean", "loose"]
    on_loose = comparison["by_condition"]["loose"]
    only_first = sum(a == t != b for a, b, t in zip(first_reads, second_reads, truths))
    only_second = sum(b == t != a for a, b, t in zip(first_reads, second_reads, truths))
    assert only_first + only_second > 0
    assert (on_loose["only_first"], on_loose["only_second"]) == (only_first, only_second)
    assert comparison["only_first"] == comparison["by_condition"]["clean"]["only_first"]  # the top level is clean
