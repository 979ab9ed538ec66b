"""predict.py: folders, globs, JSON lines, and unreadable files reported without stopping."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import ROOT, run_script, script_main, tiny_model_files

from anpr.inference import PlateReader
from anpr.inference.predict import predict_files
from anpr.inference.sources import Input, expand_inputs


def _folder_with_bad_files(tmp_path):
    _, _, images_dir, _ = tiny_model_files()
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    good = [folder / "a.png", folder / "sub" / "b.png", folder / "c.png"]
    for i, path in enumerate(good):
        shutil.copy(images_dir / f"plate_{i:04d}.png", path)
    corrupt = folder / "corrupt.png"
    corrupt.write_bytes((images_dir / "plate_0004.png").read_bytes()[:150])  # truncated
    notes = folder / "notes.jpg"
    notes.write_text("not an image, despite the name\n")
    (folder / "readme.txt").write_text("skipped: not an image extension\n")
    return folder, good, corrupt, notes


@pytest.mark.slow
def test_predict_json_reports_bad_files_and_reads_the_rest(tmp_path):
    checkpoint, _, _, _ = tiny_model_files()
    folder, good, corrupt, notes = _folder_with_bad_files(tmp_path)
    result = run_script(["scripts/predict.py", str(checkpoint), str(folder), "--json", "--batch-size", "2"], ROOT)
    assert result.returncode != 0
    records = [json.loads(line) for line in result.stdout.splitlines()]  # stdout holds JSON only
    by_path = {r["path"]: r for r in records}
    assert set(by_path) == {str(p) for p in [*good, corrupt, notes]}
    for path in (corrupt, notes):
        assert "error" in by_path[str(path)] and "text" not in by_path[str(path)]
    expected = PlateReader.from_path(checkpoint).read([str(p) for p in good])
    for path, read in zip(good, expected):
        record = by_path[str(path)]
        assert {"path", "text", "confidence", "valid_format", "review"} <= set(record)
        assert set(record) <= {"path", "text", "confidence", "valid_format", "review", "free_text", "alternatives"}
        assert record["text"] == read.text and record["confidence"] == pytest.approx(read.confidence, rel=1e-5)
        assert record["review"] is False  # no --min-confidence: nothing is sent to review
    assert "2 of 5 inputs failed" in result.stderr


def test_predict_table_on_onnx_with_files_and_globs(tmp_path, capsys):
    _, onnx_path, _, _ = tiny_model_files()
    folder, good, corrupt, _ = _folder_with_bad_files(tmp_path)
    predict = script_main("predict")
    assert predict([str(onnx_path), str(good[0]), str(folder / "*.png")]) == 1  # the glob matches corrupt.png
    out, err = capsys.readouterr()
    assert "a.png" in out and "c.png" in out and "b.png" not in out
    error_lines = err.splitlines()  # one line per problem, the path whole, whatever the terminal width
    assert any(line.startswith(f"error: {corrupt}: cannot decode image") for line in error_lines), err
    assert predict([str(onnx_path), str(good[0]), str(good[1]), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["path"] for line in lines] == [str(good[0]), str(good[1])]


@pytest.mark.slow
def test_predict_min_confidence_marks_doubtful_reads_for_review_and_decoder_choice(tmp_path, capsys):
    checkpoint, onnx_path, images_dir, _ = tiny_model_files()
    images = [str(images_dir / f"plate_{i:04d}.png") for i in range(8)]
    predict = script_main("predict")
    assert predict([str(onnx_path), *images, "--json"]) == 0
    reads = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    confidences = sorted(r["confidence"] for r in reads)
    threshold = (confidences[3] + confidences[4]) / 2  # half the reads fall below it
    assert predict([str(onnx_path), *images, "--json", "--min-confidence", str(threshold)]) == 0  # exit code unchanged
    marked = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["review"] for r in marked] == [r["confidence"] < threshold for r in reads]
    assert sum(r["review"] for r in marked) == 4
    assert predict([str(onnx_path), *images, "--min-confidence", str(threshold)]) == 0
    table = capsys.readouterr().out
    assert table.count("review") == 4 and "status" in table  # one per doubtful row
    assert predict([str(checkpoint), *images, "--json", "--decoder", "greedy"]) == 0
    greedy = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = PlateReader.from_path(checkpoint, decoder="greedy").read(images)
    assert [r["text"] for r in greedy] == [e.text for e in expected]
    assert all("alternatives" not in r for r in greedy)


def test_predict_files_keeps_input_order_across_batches(tmp_path):
    checkpoint, _, _, _ = tiny_model_files()
    folder, good, corrupt, notes = _folder_with_bad_files(tmp_path)
    inputs = expand_inputs([good[0], tmp_path / "missing.png", corrupt, good[1], notes, good[2], good[0]])
    assert inputs[1] == Input(str(tmp_path / "missing.png"), "no such file or folder")
    assert len(inputs) == 6  # the repeated file is read once
    reader = PlateReader.from_path(checkpoint)
    seen = []
    records = list(predict_files(reader, inputs, batch_size=4, on_progress=seen.append))
    assert [r["path"] for r in records] == [i.path for i in inputs]
    assert ["error" in r for r in records] == [False, True, True, False, True, False]
    assert seen == [4, 2]
    assert [r["text"] for r in records if "text" in r] == [r.text for r in reader.read([str(p) for p in good])]


def test_expand_inputs_folders_globs_and_misses(tmp_path):
    folder, good, corrupt, notes = _folder_with_bad_files(tmp_path)
    found = [i.path for i in expand_inputs([folder])]
    assert found == sorted(str(p) for p in [*good, corrupt, notes])  # readme.txt skipped
    assert [i.path for i in expand_inputs([str(tmp_path / "**" / "b.png")])] == [str(good[1])]
    assert expand_inputs([str(tmp_path / "*.bmp")])[0].error == "glob pattern matched no files"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no image files" in expand_inputs([empty])[0].error


def test_predict_reports_tiny_images_unsupported_formats_and_non_onnx_models(tmp_path, capsys):
    _, onnx_path, images_dir, _ = tiny_model_files()
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(images_dir / "plate_0000.png", folder / "good.png")
    cv2.imwrite(str(folder / "dot.png"), np.zeros((1, 1, 3), np.uint8))  # 1x1: no plate to read
    (folder / "anim.gif").write_bytes(b"GIF89a")  # a format the reader does not decode
    predict = script_main("predict")
    assert predict([str(onnx_path), str(folder), "--json"]) == 1
    out, err = capsys.readouterr()
    records = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert set(records) == {"good.png", "dot.png", "anim.gif"}
    assert "text" in records["good.png"]
    assert "1x1 px" in records["dot.png"]["error"] and "text" not in records["dot.png"]
    assert "GIF images are not read" in records["anim.gif"]["error"]
    assert "2 of 3 inputs failed" in err
    fake = tmp_path / "model.onnx"
    fake.write_text("not a model\n")
    assert predict([str(fake), str(folder / "good.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {fake}: not an ONNX model") and "Traceback" not in err
