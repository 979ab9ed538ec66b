"""evaluate: exact metrics on known reads, breakdowns, confusions, file:line errors, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from helpers import script_main, tiny_model_files, write_rec_dataset
from helpers.models import MODEL_FILES_CONTRACT

from anpr.data.labels import DatasetError
from anpr.evaluate.report import LABEL_WIDTH, align, confusions, evaluate, summarize, write_report
from anpr.inference import PlateRead, PlateReader

TRUTHS = ["KL07AB1234", "MH12DE1433", "DL4CAF1234", "22BH1234AA", "XX"]
PREDS = ["KL07AB1234", "MH12DE1438", "DL4CAF123", "22BH1234AA", ""]
LAYOUTS = ["one-line", "two-line", "one-line", "two-line", "one-line"]


class StubReader:
    """Returns fixed reads in order, whatever the images: evaluation's arithmetic in isolation."""

    def __init__(self, texts):
        self.texts = list(texts)
        self.calls = []

    def read(self, images, rgb=False, batch_size=64):
        assert rgb and all(image.ndim == 3 and image.shape[2] == 3 for image in images)
        self.calls.append(len(images))
        out, self.texts = self.texts[: len(images)], self.texts[len(images) :]
        return [PlateRead(t, 0.5, False) for t in out]


def test_align_pairs_characters_by_edit_distance():
    assert align("KL07AB1234", "KL07AB1235")[-1] == ("4", "5")
    assert sum(t != p for t, p in align("KL07AB1234", "KL07AB1235")) == 1
    assert [(t, p) for t, p in align("KL07AB1234", "KL7AB1234") if t != p] == [("0", "")]
    assert [(t, p) for t, p in align("MH12", "MH112") if t != p] == [("", "1")]
    assert align("", "") == [] and align("AB", "") == [("A", ""), ("B", "")]


def test_metrics_on_known_reads_are_exact(tmp_path):
    images_dir, labels_file = write_rec_dataset(tmp_path / "set", TRUTHS)
    (tmp_path / "set" / "layout.tsv").write_text(
        "".join(f"plate_{i:04d}.png\t{layout}\n" for i, layout in enumerate(LAYOUTS[:4]))
    )  # last one unlisted
    reader = StubReader(PREDS)
    metrics, samples = evaluate(reader, images_dir, labels_file, tmp_path / "set" / "layout.tsv", batch_size=2)
    assert reader.calls == [2, 2, 1]
    # Worked out by hand: per-plate character accuracy 1, 0.9, 0.9, 1, 0.
    assert metrics["num_samples"] == 5
    assert metrics["sequence_accuracy"] == pytest.approx(2 / 5)
    assert metrics["character_accuracy"] == pytest.approx(3.8 / 5, abs=1e-6)
    by_format = metrics["by_format"]
    assert set(by_format) == {"standard", "delhi", "bh", "other"}
    assert by_format["standard"] == {
        "num_samples": 2,
        "sequence_accuracy": 0.5,
        "sequence_accuracy_interval": [pytest.approx(0.0945, abs=1e-4), pytest.approx(0.9055, abs=1e-4)],
        "character_accuracy": pytest.approx(0.95, abs=1e-6),
    }
    assert by_format["delhi"]["character_accuracy"] == pytest.approx(0.9, abs=1e-6)
    assert by_format["bh"]["sequence_accuracy"] == 1.0 and by_format["other"]["character_accuracy"] == 0.0
    by_layout = metrics["by_layout"]
    assert {k: v["num_samples"] for k, v in by_layout.items()} == {"one-line": 2, "two-line": 2, "unknown": 1}
    assert by_layout["one-line"]["character_accuracy"] == pytest.approx(0.95, abs=1e-6)
    assert by_layout["two-line"]["character_accuracy"] == pytest.approx(0.95, abs=1e-6)
    assert by_layout["unknown"]["sequence_accuracy"] == 0.0
    assert metrics["confusions"] == [
        {"truth": "X", "pred": "", "count": 2},
        {"truth": "3", "pred": "8", "count": 1},
        {"truth": "4", "pred": "", "count": 1},
    ]

    written = write_report(metrics, samples, images_dir, tmp_path / "out", (32, 128), worst=2)
    saved = json.loads(written["metrics"].read_text())
    assert {"sequence_accuracy", "character_accuracy", "num_samples", "by_format", "by_layout", "confusions"} <= set(
        saved
    )
    assert saved["worst_mistakes"] == str(tmp_path / "out" / "worst_mistakes.png")
    assert written["worst_mistakes"].stat().st_size > 0
    rows = written["predictions"].read_text().splitlines()
    assert rows[5].split("\t")[:3] == ["plate_0004.png", "XX", ""]


def test_without_layouts_there_is_no_layout_breakdown():
    from anpr.data.labels import LabelRecord
    from anpr.evaluate.report import Sample

    samples = [Sample(LabelRecord("l", i + 1, f"{i}.png", t), p, 1.0) for i, (t, p) in enumerate(zip(TRUTHS, PREDS))]
    assert summarize(samples)["by_layout"] == {}
    assert confusions(["AB"], ["AC"]) == [{"truth": "C", "pred": "B", "count": 1}]


def test_bad_labels_and_missing_images_name_file_and_line(tmp_path):
    images_dir, labels_file = write_rec_dataset(tmp_path / "set", ["KL07AB1234", "MH12DE1433"])
    labels_file.write_text(
        "plate_0000.png\tKL07AB1234\nmissing.png\tMH12DE1433\nplate_0001.png\t\nplate_0001.png\tmh12de1433\n"
    )
    with pytest.raises(DatasetError) as err:
        evaluate(StubReader([]), images_dir, labels_file)
    message = str(err.value)
    assert f"{labels_file}:2: image not found" in message
    assert f"{labels_file}:3: empty text" in message
    assert f"{labels_file}:4: 'mh12de1433' has characters the model cannot read" not in message  # stub: no charset

    checkpoint, _, _, _ = tiny_model_files()
    with pytest.raises(DatasetError, match=f"{labels_file}:4: 'mh12de1433' has characters"):
        evaluate(PlateReader.from_path(checkpoint), images_dir, labels_file)

    labels_file.write_text("plate_0000.png\tKL07AB1234\nplate_0001.png\tMH12DE1433\n")
    (images_dir / "plate_0001.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetError, match=f"{labels_file}:2: cannot decode image"):
        evaluate(StubReader(["A", "B"]), images_dir, labels_file)
    labels_file.write_text("plate_0000.png\tKL07AB1234\nplate_0001.png MH12DE1433\n")
    with pytest.raises(DatasetError, match=f"{labels_file}:2: expected 'image_name<TAB>TEXT'"):
        evaluate(StubReader([]), images_dir, labels_file)


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_evaluate_script_with_a_real_model_matches_independent_numbers(tmp_path, capsys):
    checkpoint, onnx_path, _, _ = tiny_model_files()
    texts = ["KL07AB1234", "MH12DE1433", "DL4CAF1234", "22BH1234AA", "TN01A1", "KA05MN4321"]
    images_dir, labels_file = write_rec_dataset(tmp_path / "set", texts)
    reads = [r.text for r in PlateReader.from_path(checkpoint).read(sorted(images_dir.iterdir()))]
    # Make some labels equal the model's own reads, so both accuracies are non-trivial.
    truths = [read if i % 2 == 0 and read else text for i, (read, text) in enumerate(zip(reads, texts))]
    labels_file.write_text("".join(f"plate_{i:04d}.png\t{t}\n" for i, t in enumerate(truths)))
    (tmp_path / "set" / "layout.tsv").write_text("".join(f"plate_{i:04d}.png\tone-line\n" for i in range(6)))
    out = tmp_path / "report"
    code = script_main("evaluate")(
        [str(onnx_path), "--images-dir", str(images_dir), "--labels-file", str(labels_file), "--out", str(out)]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    expected_seq = sum(r == t for r, t in zip(reads, truths)) / 6
    expected_char = sum(max(0.0, 1 - _levenshtein(r, t) / len(t)) for r, t in zip(reads, truths)) / 6
    assert expected_seq >= 0.5
    assert metrics["num_samples"] == 6
    assert metrics["sequence_accuracy"] == pytest.approx(expected_seq)
    assert metrics["character_accuracy"] == pytest.approx(expected_char, abs=1e-6)
    assert metrics["by_layout"]["one-line"]["num_samples"] == 6  # layout.tsv found beside images/
    stdout = capsys.readouterr().out
    assert "sequence acc." in stdout and "Wrote metrics" in stdout
    # Risk-coverage and calibration, from the confidences in predictions.tsv.
    assert (out / "coverage.png").is_file()
    rows = [line.split("\t") for line in (out / "predictions.tsv").read_text().splitlines()[1:]]
    ranked = sorted(rows, key=lambda r: -float(r[3]))
    assert metrics["accuracy_at_coverage"]["1"] == pytest.approx(expected_seq)
    assert metrics["accuracy_at_coverage"]["0.8"] == pytest.approx(sum(r[1] == r[2] for r in ranked[:5]) / 5)
    assert set(metrics["expected_calibration_error"]) == {"confidence", "min_char_confidence"}
    assert "0.99" in metrics["coverage_at_accuracy"]
    assert metrics["decoder"] == "grammar" and "greedy" in metrics
    assert metrics["greedy"]["sequence_accuracy"] == pytest.approx(sum(r[1] == r[6] for r in rows) / 6)


@pytest.mark.slow
def test_evaluate_script_decoder_choice(tmp_path):
    checkpoint, _, images_dir, labels_file = tiny_model_files()
    reports = {}
    for decoder in ("greedy", "grammar"):
        out = tmp_path / decoder
        assert (
            script_main("evaluate")(
                [
                    str(checkpoint),
                    "--images-dir",
                    str(images_dir),
                    "--labels-file",
                    str(labels_file),
                    "--out",
                    str(out),
                    "--decoder",
                    decoder,
                ]
            )
            == 0
        )
        reports[decoder] = json.loads((out / "metrics.json").read_text())
        preds = [line.split("\t") for line in (out / "predictions.tsv").read_text().splitlines()[1:]]
        expected = PlateReader.from_path(checkpoint, decoder=decoder).read([str(images_dir / row[0]) for row in preds])
        assert [row[2] for row in preds] == [e.text for e in expected]
    assert reports["greedy"]["decoder"] == "greedy"
    # The grammar run's greedy column is the greedy run's result.
    assert reports["grammar"]["greedy"]["sequence_accuracy"] == reports["greedy"]["sequence_accuracy"]


def test_feature_breakdown_counts_one_digit_districts_and_the_layouts_file_tags(tmp_path):
    truths = ["GJ1KE2245", "GJ01KE2245", "MH12DE1433", "GJ5AB1234"]
    preds = ["GJ1KE2245", "GJ01KE2245", "MH12DE1438", "GJ5AB1284"]
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", truths)
    layouts = tmp_path / "rec" / "layout.tsv"
    layouts.write_text(
        "plate_0000.png\tone-line\tseparator:dot\nplate_0001.png\tone-line\tseparator:none\n"
        "plate_0002.png\ttwo-line\tseparator:dot\nplate_0003.png\tstacked-prefix\n"
    )
    metrics, samples = evaluate(StubReader(preds), images_dir, labels_file, layouts)
    features = metrics["by_feature"]
    assert {k: v["num_samples"] for k, v in features.items()} == {
        "one-digit district": 2,
        "separator:dot": 2,
        "separator:none": 1,
    }
    assert features["one-digit district"]["sequence_accuracy"] == 0.5
    assert features["separator:dot"]["sequence_accuracy"] == 0.5
    assert metrics["by_layout"]["stacked-prefix"]["num_samples"] == 1
    assert samples[2].layout == "two-line" and samples[2].tags == ("separator:dot",)


@pytest.mark.slow
def test_conditions_report_each_perturbed_copy_against_the_clean_crops(tmp_path):
    from anpr.evaluate.perturb import perturb_dataset

    checkpoint, _, _, _ = tiny_model_files()
    texts = ["KL07AB1234", "MH12DE1433", "DL4CAF1234", "22BH1234AA", "TN01A1", "KA05MN4321"]
    images_dir, labels_file = write_rec_dataset(tmp_path / "set", texts)
    reader = PlateReader.from_path(checkpoint)
    # The copies depend on the image names only, so they can be made first and read independently.
    (own_copy,) = perturb_dataset(images_dir, labels_file, tmp_path / "own", ["loose"])
    names = sorted(p.name for p in images_dir.iterdir())
    clean_reads = [r.text for r in reader.read([images_dir / n for n in names])]
    loose_reads = [r.text for r in reader.read([own_copy / "images" / n for n in names])]
    # Labels equal to some of the model's own reads, so both accuracies are non-trivial.
    truths = [clean_reads[0], clean_reads[1], loose_reads[2], loose_reads[3], texts[4], texts[5]]
    truths = [t or text for t, text in zip(truths, texts)]
    labels_file.write_text("".join(f"{n}\t{t}\n" for n, t in zip(names, truths)))
    out = tmp_path / "report"
    args = [str(checkpoint), "--images-dir", str(images_dir), "--labels-file", str(labels_file), "--out", str(out)]
    assert script_main("evaluate")([*args, "--conditions", "loose", "night"]) == 0

    summary = json.loads((out / "conditions.json").read_text())
    assert list(summary) == ["clean", "loose", "night"]
    clean = sum(r == t for r, t in zip(clean_reads, truths)) / 6
    loose = sum(r == t for r, t in zip(loose_reads, truths)) / 6
    assert summary["clean"]["sequence_accuracy"] == pytest.approx(clean)
    assert summary["loose"]["sequence_accuracy"] == pytest.approx(loose)
    assert summary["loose"]["points_below_clean"] == pytest.approx(100 * (clean - loose), abs=0.01)
    assert summary["night"]["num_samples"] == 6
    # The plates the condition broke and fixed, counted from the two sets of reads directly.
    broken = sum(c == t != r for c, r, t in zip(clean_reads, loose_reads, truths))
    fixed = sum(r == t != c for c, r, t in zip(clean_reads, loose_reads, truths))
    assert (summary["loose"]["plates_broken"], summary["loose"]["plates_fixed"]) == (broken, fixed)
    assert broken + fixed > 0 and 0 < summary["loose"]["drop_p_value"] <= 1
    # The clean report is the plain one; each condition has its copy and its own report.
    assert json.loads((out / "metrics.json").read_text())["sequence_accuracy"] == pytest.approx(clean)
    copy = out / "conditions" / "loose"
    assert (copy / "images" / names[0]).read_bytes() == (own_copy / "images" / names[0]).read_bytes()
    loose_metrics = json.loads((copy / "metrics.json").read_text())
    assert loose_metrics["condition"] == "loose" and loose_metrics["num_samples"] == 6
    rows = [line.split("\t") for line in (copy / "predictions.tsv").read_text().splitlines()[1:]]
    assert [row[2] for row in rows] == loose_reads
    # The sheet: a row per condition (clean, loose, night), the same 6 plates in each, at model size.
    sheet = cv2.imread(str(out / "conditions.png"))
    height, width = MODEL_FILES_CONTRACT.image_height, MODEL_FILES_CONTRACT.image_width  # as the model sees them
    assert sheet.shape[0] == 3 * (height + 22 + 4) and sheet.shape[1] == LABEL_WIDTH + 6 * (width + 4)


def test_the_sheet_shows_first_the_plates_a_condition_breaks():
    from anpr.data.labels import LabelRecord
    from anpr.evaluate.conditions import sheet_plates
    from anpr.evaluate.report import Sample

    def reads(*preds):
        truths = ["KL07AB1234", "MH12DE1433", "DL4CAF1234"]
        records = [LabelRecord(Path("labels.txt"), i + 1, f"{i}.png", t) for i, t in enumerate(truths)]
        return {}, [Sample(r, p, 0.5) for r, p in zip(records, preds)], None

    results = {
        "clean": reads("KL07AB1234", "MH12DE1433", "DL4CAF123"),
        "loose": reads("KL07AB1234", "MH12DE1438", "DL4CAF123"),
        "night": reads("KL07AB1231", "MH12DE1438", "DL4CAF1234"),
    }
    # Plate 1 breaks under two conditions, plate 0 under one; plate 2 is wrong clean already.
    assert sheet_plates(results, 3) == [1, 0, 2]
    assert sheet_plates(results, 1) == [1]
