"""The dataset checker: a generated dataset with one of each defect, found line by line."""

from __future__ import annotations

import importlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import BROKEN_TIME_STEPS as TIME_STEPS
from helpers import make_broken_dataset, random_plate_texts, write_rec_dataset

from anpr.charset import Charset
from anpr.data import DatasetError, read_labels
from anpr.data.checks import check_dataset, normalise_label
from anpr.data.labels import parse_labels


@pytest.fixture
def broken(tmp_path: Path):
    return make_broken_dataset(tmp_path / "broken")


def load_script():
    return importlib.import_module("anpr.cli.check")


def test_checker_finds_exactly_the_broken_lines(broken) -> None:
    images_dir, labels_file, expected = broken
    report = check_dataset(images_dir, labels_file, Charset(), time_steps=TIME_STEPS)
    assert {(i.line, i.kind) for i in report.issues} == expected
    assert report.bad_lines == {
        line
        for line, kind in expected
        if kind not in ("bom", "crlf", "gray_image", "rgba_image", "16bit_image", "duplicate_line")
    }
    messages = {(i.line, i.kind): i.message for i in report.issues}
    assert "normalised: KL07AB1234" in messages[(2, "bad_chars")]
    assert "normalised: KL07AB1234" in messages[(16, "bad_chars")]
    assert "no normalisation" in messages[(14, "bad_chars")]
    assert "needs 17 CTC time steps" in messages[(13, "too_long")]
    assert "FFD9" in messages[(15, "truncated_image")]
    assert all(str(labels_file) == i.file for i in report.issues)


def test_header_only_mode_finds_the_same(broken) -> None:
    images_dir, labels_file, expected = broken
    report = check_dataset(images_dir, labels_file, Charset(), time_steps=TIME_STEPS, decode=False, workers=1)
    assert {(i.line, i.kind) for i in report.issues} == expected


def test_normalisation() -> None:
    charset = Charset()
    assert normalise_label("kl-07 ab 1234", charset) == "KL07AB1234"
    assert normalise_label("KL.07.AB.1234", charset) == "KL07AB1234"
    assert normalise_label("ＫＬ０７ＡＢ１２３４", charset) == "KL07AB1234"  # full-width
    assert normalise_label("KL07\u00a0AB\u20131234", charset) == "KL07AB1234"  # no-break space, en dash
    assert normalise_label("KL07/AB", charset) is None
    assert normalise_label(" - ", charset) is None


def test_strict_and_lenient_readers_share_the_parser(broken) -> None:
    _, labels_file, expected = broken
    parsed = parse_labels(labels_file)
    assert {(i.line, i.kind) for i in parsed.issues} == {
        (line, kind) for line, kind in expected if kind in ("bom", "crlf", "no_tab", "non_utf8", "empty_name")
    }
    assert parsed.records[0].text == random_plate_texts(20, seed=7)[0]  # no BOM, no CR
    with pytest.raises(DatasetError, match=r"labels\.txt:4: .*no tab"):
        read_labels(labels_file)


@pytest.mark.slow
def test_script_reports_lines_and_exit_code(broken, tmp_path: Path, capsys) -> None:
    images_dir, labels_file, _ = broken
    script = load_script()
    args = ["--images-dir", str(images_dir), "--labels-file", str(labels_file), "--cache-dir", str(tmp_path / "c")]
    assert script.main(args + ["--model", "crnn"]) == 1
    out = capsys.readouterr().out
    assert "16 CTC time steps (model crnn)" in out
    for where in ("labels.txt:5", "labels.txt:6", "labels.txt:13", "labels.txt:15", "labels.txt:23"):
        assert where in out
    assert "Summary" in out and "images/s" in out

    clean_dir, clean_labels = write_rec_dataset(tmp_path / "clean", random_plate_texts(6))
    cv2.imwrite(str(clean_dir / "plate_0000.png"), np.full((40, 160), 200, np.uint8))  # gray: a warning
    clean_labels.write_bytes(clean_labels.read_bytes().replace(b"\n", b"\r\n"))  # CRLF: a warning
    assert script.main(["--images-dir", str(clean_dir), "--labels-file", str(clean_labels), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "gray_image" in out and "crlf" in out and "OK" in out
    assert script.main(["--images-dir", str(clean_dir), "--labels-file", str(tmp_path / "nope.txt")]) == 2


def test_fix_labels_writes_a_normalised_copy(broken, tmp_path: Path, capsys) -> None:
    images_dir, labels_file, _ = broken
    original = labels_file.read_bytes()
    out = tmp_path / "fixed.txt"
    script = load_script()
    script.main(
        [
            "--images-dir",
            str(images_dir),
            "--labels-file",
            str(labels_file),
            "--time-steps",
            "16",
            "--no-cache",
            "--fix-labels",
            str(out),
        ]
    )
    assert labels_file.read_bytes() == original
    fixed = out.read_bytes().decode("utf-8")
    assert "\r" not in fixed and not fixed.startswith("\ufeff")
    names = [line.split("\t")[0] for line in fixed.splitlines()]
    texts = dict(line.split("\t") for line in fixed.splitlines())
    assert texts["plate_0001.png"] == "KL07AB1234" and texts["plate_0015.png"] == "KL07AB1234"
    for index in (2, 3, 4, 5, 6, 7, 8, 12, 13, 17):  # image index = line - 1
        assert f"plate_{index:04d}.png" not in names
    assert "cut.jpg" not in names
    assert names.count("plate_0016.png") == 1  # the duplicate line is written once
    assert {"plate_0000.png", "plate_0009.png", "plate_0010.png", "plate_0011.png"} <= set(names)  # warnings only
    assert len(names) == 9  # lines 1, 2, 10, 11, 12, 16, 17, 19, 20
    report = check_dataset(images_dir, out, Charset(), time_steps=16)
    assert report.ok
    output = capsys.readouterr().out
    assert "--fix-labels: wrote 9 line(s)" in output and "left out" in output


def test_show_writes_a_contact_sheet(broken, tmp_path: Path, capsys) -> None:
    images_dir, labels_file, _ = broken
    sheet = tmp_path / "sheet.png"
    script = load_script()
    script.main(
        [
            "--images-dir",
            str(images_dir),
            "--labels-file",
            str(labels_file),
            "--model",
            "crnn_small",
            "--no-cache",
            "--show",
            "6",
            "--sheet",
            str(sheet),
        ]
    )
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[0] > 2 * 48 and image.shape[1] > 4 * 192
    out = capsys.readouterr().out
    assert "encoded length" in out and str(sheet) in out
