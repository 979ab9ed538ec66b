"""Several readings of one plate as one: views of the crop, reader files naming several models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT
from test_decoding import plate_frames

from anpr.bench.read import ReadSettings, run_read
from anpr.charset import DEFAULT_CHARACTERS as CHARS
from anpr.data.synth import PlateSynthesizer
from anpr.decoding import PlateDecoder
from anpr.inference import CheckpointError, PlateReader
from anpr.inference.views import UnknownViewError, check_views, crop_view
from anpr.pretrained import FILES

SEED = 5150  # plates no shipped model was trained on


@pytest.fixture(scope="module")
def plates() -> list[np.ndarray]:
    synth = PlateSynthesizer(SEED, two_line_fraction=0.25)
    return [synth.render(i).image for i in range(12)]


def test_views_cut_or_widen_the_box_by_their_share_of_each_side() -> None:
    image = np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3)
    assert crop_view(image, "full") is image
    tight = crop_view(image, "tight")  # 3% of the width, 5% of the height off each side
    assert tight.shape == (90, 188, 3)
    assert np.array_equal(tight, image[5:95, 6:194])
    wide = crop_view(image, "wide")  # grown by 3% and 6%, edge pixels repeated
    assert wide.shape == (112, 212, 3)
    assert np.array_equal(wide[6:106, 6:206], image)
    assert np.array_equal(wide[0, 6:206], image[0]) and np.array_equal(wide[:, 0][6:106], image[:, 0])
    tiny = np.zeros((3, 4, 3), np.uint8)
    assert crop_view(tiny, "tighter").shape == tiny.shape  # nothing left to cut: read whole


def test_an_unknown_view_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownViewError, match="unknown view 'zoom'.*full, tight, tighter, wide"):
        check_views(["full", "zoom"])
    assert check_views([]) == ("full",)


def _readings(*frames: np.ndarray) -> np.ndarray:
    """(1, readings, time, classes) logits from same-length (1, time, classes) ones."""
    return np.stack([f[0] for f in frames])[None]


def test_readings_that_agree_give_their_text_with_full_agreement() -> None:
    decoder = PlateDecoder(CHARS, "grammar", "india")
    clear = plate_frames("KL07AB1234")
    alone = decoder(clear)[0]
    both = decoder(_readings(clear, clear))[0]
    assert both.text == alone.text == "KL07AB1234"
    assert both.agreement == 1.0 and alone.agreement is None
    assert both.confidence == pytest.approx(alone.confidence)


def test_the_text_all_readings_find_likely_wins_over_one_readings_favourite() -> None:
    decoder = PlateDecoder(CHARS, "grammar", "india")
    # reading 1 is torn between 8 and 3 at the ninth character; readings 2 and 3 see a 3
    torn = plate_frames("KL07AB1284", {8: {"8": 0.55, "3": 0.4, "-": 0.05}})
    three = plate_frames("KL07AB1234", {8: {"3": 0.8, "8": 0.15, "-": 0.05}})
    assert decoder(torn)[0].text == "KL07AB1284"
    read = decoder(_readings(torn, three, three))[0]
    assert read.text == "KL07AB1234"
    assert read.agreement == pytest.approx(2 / 3)
    # the confidence is the mean probability of the text: below the readings that saw a 3
    assert read.confidence < decoder(three)[0].confidence
    assert [t for t, _ in read.alternatives][:2] == ["KL07AB1234", "KL07AB1284"]


def test_disagreeing_readings_lower_the_confidence() -> None:
    decoder = PlateDecoder(CHARS, "greedy", None)
    a = plate_frames("KL07AB1234")
    b = plate_frames("KL07AB1284")
    read = decoder(_readings(a, b))[0]
    assert read.text in {"KL07AB1234", "KL07AB1284"}
    assert read.agreement == 0.5
    assert read.confidence < 0.6 * decoder(a)[0].confidence


def test_a_reader_with_views_reads_as_the_serve_engine_batches(plates) -> None:
    reader = PlateReader.from_path("pretrained-v1", threads=1, views=("full", "tight", "tighter"))
    whole = reader.read(plates)
    # the server preprocesses each request apart and decodes their concatenation
    parts = np.concatenate([reader.preprocess([p]) for p in plates])
    assert parts.shape[0] == 3 * len(plates)
    served = reader.decode(reader.logits(parts))
    assert [r.text for r in served] == [r.text for r in whole]
    assert all(r.agreement is not None for r in whole)


def test_one_view_twice_reads_as_one_view(plates) -> None:
    single = PlateReader.from_path("pretrained-v1", threads=1).read(plates)
    twice = PlateReader.from_path("pretrained-v1", threads=1, views=("full", "full")).read(plates)
    assert [r.text for r in twice] == [r.text for r in single]
    assert np.allclose([r.confidence for r in twice], [r.confidence for r in single], atol=1e-6)
    assert {r.agreement for r in twice} == {1.0}


def _reader_file(folder: Path, members: list[str], views: list[str] | None = None, **extra) -> Path:
    spec = {"format": "anpr-reader/1", "members": members, **extra}
    if views is not None:
        spec["views"] = views
    path = folder / "reader.json"
    path.write_text(json.dumps(spec))
    return path


def test_a_reader_file_of_one_model_twice_reads_as_that_model(tmp_path, plates) -> None:
    single = PlateReader.from_path(FILES["onnx"], threads=1).read(plates)
    # member paths are relative to the reader file
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.onnx").write_bytes(FILES["onnx"].read_bytes())
    reader = PlateReader.from_path(_reader_file(tmp_path, ["m/a.onnx", "m/a.onnx"]), threads=1)
    assert reader.views == ("full",) and reader.info.temperature == 1.0
    reads = reader.read(plates)
    assert [r.text for r in reads] == [r.text for r in single]
    # each member applies its own calibration temperature: the same confidences
    assert np.allclose([r.confidence for r in reads], [r.confidence for r in single], atol=1e-6)
    with_views = PlateReader.from_path(_reader_file(tmp_path, ["m/a.onnx"], ["full", "tight"]), threads=1)
    assert with_views.views == ("full", "tight")
    assert PlateReader.from_path(tmp_path / "reader.json", threads=1, views=("full",)).views == ("full",)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "invalid JSON"),
        ('{"members": ["a.onnx"]}', '"format": "anpr-reader/1"'),
        ('{"format": "anpr-reader/1", "members": []}', "non-empty list"),
        ('{"format": "anpr-reader/1", "members": ["a.onnx"], "views": "full"}', "list of view names"),
        ('{"format": "anpr-reader/1", "members": ["a.onnx"], "views": ["zoom"]}', "unknown view 'zoom'"),
        ('{"format": "anpr-reader/1", "members": ["missing.onnx"]}', "ONNX file not found"),
    ],
)
def test_a_broken_reader_file_says_what_is_wrong(tmp_path, content, message) -> None:
    path = tmp_path / "reader.json"
    path.write_text(content)
    with pytest.raises(CheckpointError, match=message):
        PlateReader.from_path(path)


def test_members_that_read_plates_differently_are_refused(tmp_path) -> None:
    from helpers.models import tiny_model_files

    _, tiny_onnx, _, _ = tiny_model_files()  # 32x128 input: not the shipped reader's 48x192
    path = _reader_file(tmp_path, [str(FILES["onnx"]), str(tiny_onnx)])
    with pytest.raises(CheckpointError, match="reads plates differently"):
        PlateReader.from_path(path)


@pytest.mark.slow
def test_predict_reads_with_a_reader_file_and_refuses_an_unknown_view(tmp_path, plates) -> None:
    import cv2

    image = tmp_path / "plate.png"
    cv2.imwrite(str(image), plates[0])
    path = _reader_file(tmp_path, [str(FILES["onnx"])], ["full", "tight"])
    run = subprocess.run(
        [sys.executable, "-m", "anpr", "predict", str(path), str(image), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout.splitlines()[0])
    assert record["agreement"] in (0.5, 1.0) and record["text"]
    bad = subprocess.run(
        [sys.executable, "-m", "anpr", "predict", "pretrained", str(image), "--views", "zoom"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 2 and "invalid choice: 'zoom'" in bad.stderr


def test_the_read_benchmark_counts_every_model_call() -> None:
    table = run_read(
        ["pretrained-v1", "pretrained-v1@full+tight"], ReadSettings(plates=4, repeats=3, rounds=1), lambda _: None
    )
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| `")]
    assert [r[1].strip() for r in rows] == ["`pretrained-v1`", "`pretrained-v1@full+tight`"]
    assert [int(r[3]) for r in rows] == [1, 2]
    assert [r[4].strip() for r in rows] == ["none", "none"]  # neither has a second look
    assert rows[0][6].strip() == "1.00x"


def test_a_fitted_confidence_power_recovers_how_often_reads_are_right() -> None:
    from anpr.export.calibration import fit_confidence_power

    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.05, 1.0, 20_000)
    right = rng.uniform(size=confidence.size) < confidence**0.3  # under-confident: right more often than said
    assert fit_confidence_power(confidence, right) == pytest.approx(0.3, abs=0.03)
    assert fit_confidence_power(confidence, rng.uniform(size=confidence.size) < confidence) == pytest.approx(
        1, abs=0.05
    )


def test_a_reader_files_confidence_power_raises_every_confidence(tmp_path, plates) -> None:
    plain = PlateReader.from_path(_reader_file(tmp_path, [str(FILES["onnx"])], ["full", "tight"]), threads=1)
    reads = plain.read(plates)
    powered = PlateReader.from_path(
        _reader_file(tmp_path, [str(FILES["onnx"])], ["full", "tight"], confidence_power=0.5), threads=1
    ).read(plates)
    assert [r.text for r in powered] == [r.text for r in reads]
    assert np.allclose([r.confidence for r in powered], [r.confidence**0.5 for r in reads], atol=1e-6)
    path = _reader_file(tmp_path, [str(FILES["onnx"])], confidence_power=0)
    with pytest.raises(CheckpointError, match="'confidence_power' must be a positive number"):
        PlateReader.from_path(path)


@pytest.mark.slow
def test_calibrate_fits_a_reader_files_power_into_a_copy(tmp_path) -> None:
    path = _reader_file(tmp_path, [str(FILES["onnx"])], ["full", "tight"])
    out = tmp_path / "sub" / "calibrated.json"
    out.parent.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "anpr", "calibrate", str(path), "--synth", "200", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    spec = json.loads(out.read_text())
    assert 0.05 <= spec["confidence_power"] < 1  # a mean of views' probabilities is under-confident
    assert "confidence_power" not in json.loads(path.read_text())  # the original is left alone
    assert PlateReader.from_path(out).decoder.combined_power == spec["confidence_power"]
    # the shipped reader by name, into a folder that does not exist yet; the package's file is kept
    shipped = FILES["reader"].read_bytes()
    copy = tmp_path / "new" / "pretrained.json"
    run = subprocess.run(
        [sys.executable, "-m", "anpr", "calibrate", "pretrained", "--synth", "100", "--out", str(copy)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(copy.read_text())["members"] == [
        str(FILES["reader"].parent / m) for m in json.loads(shipped)["members"]
    ]
    assert FILES["reader"].read_bytes() == shipped


def test_a_users_mistake_the_command_does_not_catch_is_one_line_not_a_traceback(capsys) -> None:
    from anpr.cli.main import main

    assert main(["benchmark", "read", "pretrained-v1@zoom"]) == 2
    err = capsys.readouterr().err
    assert "unknown view 'zoom'" in err and "Traceback" not in err
