"""predict.py: folders, globs, JSON lines, and unreadable files reported without stopping."""

from __future__ import annotations

import json
import shutil

from anpr.inference import PlateReader
from anpr.inference.predict import predict_files
from anpr.inference.sources import Input, expand_inputs
from conftest import ROOT, run_script
from test_inference import script_main, tiny_model_files


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
        assert set(record) == {"path", "text", "confidence", "valid_format"}
        assert record["text"] == read.text and abs(record["confidence"] - read.confidence) < 1e-5
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
