"""The second look: doubtful crops read again in other boxes, the surest reading kept."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from helpers import CountingBackend

from anpr.cli.decoder_options import add_decoding_arguments, decoding_options
from anpr.data.synth import PlateSynthesizer
from anpr.inference import CheckpointError, PlateReader
from anpr.inference.second_look import SecondLook, SecondLookError
from anpr.inference.views import crop_view
from anpr.pretrained import FILES
from anpr.serve.engine import ReadEngine
from anpr.serve.settings import ServeSettings

SEED = 5151  # plates no shipped model was trained on


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    """RGB crops: some clean, some boxed loosely or cut into, so some reads are doubtful."""
    synth = PlateSynthesizer(SEED, two_line_fraction=0.25)
    images = [cv2.cvtColor(synth.render(i).image, cv2.COLOR_BGR2RGB) for i in range(10)]
    images[1] = crop_view(crop_view(images[1], "wide"), "wide")
    images[2] = crop_view(images[2], "tighter")
    return images


def _reader(look: SecondLook | None) -> PlateReader:
    reader = PlateReader.from_path(FILES["onnx"], threads=1, views=("full", "tight"), second_look=look)
    reader.backend = CountingBackend(reader.backend)
    return reader


def test_a_doubtful_crop_keeps_the_surest_of_its_second_readings(crops) -> None:
    look = SecondLook(below=1.0, views=("wide", "tighter"))  # every read is below 1: all doubtful
    reader = _reader(look)
    reads = reader.read(crops, rgb=True)
    # two views, then each crop once more per second-look view
    assert reader.backend.crops == len(crops) * (2 + 2)
    plain = _reader(None)
    base = plain.logits(plain.preprocess(crops, rgb=True))
    for image, base_logits, read in zip(crops, base, reads):
        expected = []
        for view in look.views:
            extra = plain.backend(plain.preprocessor(crop_view(image, view))[None])
            expected.append(plain.decode(np.concatenate([base_logits[None], extra[:, None]], axis=1))[0])
        surest = max(expected, key=lambda r: r.confidence)
        assert (read.text, read.confidence) == (surest.text, pytest.approx(surest.confidence))
        assert read.agreement is not None  # combined from the reader's views and the new one


def test_confident_crops_are_read_once_and_as_without_a_second_look(crops) -> None:
    without = _reader(None).read(crops, rgb=True)
    below = sorted(r.confidence for r in without)[3]  # the 3 least confident reads are doubtful
    reader = _reader(SecondLook(below=below, views=("wide",)))
    reads = reader.read(crops, rgb=True)
    assert reader.backend.crops == len(crops) * 2 + 3
    for plain, read in zip(without, reads):
        if plain.confidence >= below:
            assert read == plain


def test_the_review_flag_follows_the_kept_reading(crops) -> None:
    first = _reader(None).read(crops, rgb=True)
    kept = _reader(SecondLook(below=1.0, views=("wide",))).read(crops, rgb=True)
    # a threshold between a crop's first and its kept confidence: the flag must follow the kept one
    i = max(range(len(crops)), key=lambda k: abs(kept[k].confidence - first[k].confidence))
    assert kept[i].confidence != pytest.approx(first[i].confidence, abs=1e-3)
    threshold = (kept[i].confidence + first[i].confidence) / 2
    reads = _reader(SecondLook(below=1.0, views=("wide",))).read(crops, rgb=True, min_confidence=threshold)
    assert reads[i].review == (kept[i].confidence < threshold) != (first[i].confidence < threshold)
    assert all(r.review == (r.confidence < threshold) for r in reads)


def test_an_ensemble_in_one_view_looks_again_alike_in_small_batches_and_over_http(tmp_path, crops) -> None:
    spec = {"format": "anpr-reader/1", "members": [str(FILES["onnx"]), str(FILES["field2_onnx"])], "views": ["full"]}
    spec["second_look"] = {"below": 1.0, "views": ["tighter"]}
    (tmp_path / "reader.json").write_text(json.dumps(spec))
    reader = PlateReader.from_path(tmp_path / "reader.json", threads=1)
    reads = reader.read(crops, rgb=True, batch_size=3)  # batches that split the crops unevenly
    base = reader.logits(reader.preprocess(crops[:1], rgb=True))  # (1, members, time, classes)
    extra = reader.backend(reader.view_input(crops[0], "tighter")[None])
    expected = reader.decode(np.concatenate([base, extra], axis=1))[0]
    assert base.shape[1] == extra.shape[1] == 2
    assert (reads[0].text, reads[0].confidence) == (expected.text, pytest.approx(expected.confidence))
    encoded = [cv2.imencode(".png", cv2.cvtColor(c, cv2.COLOR_RGB2BGR))[1].tobytes() for c in crops]
    served = ReadEngine(ServeSettings(), reader=reader).read_batch(encoded)
    assert [s["text"] for s in served] == [r.text for r in reads]


def test_serve_without_a_second_look_builds_a_reader_without_one() -> None:
    from anpr.cli.serve import build_parser, settings_from_args

    on = settings_from_args(build_parser().parse_args(["pretrained"]))
    off = settings_from_args(build_parser().parse_args(["pretrained", "--no-second-look"]))
    assert "second_look" not in on.decoding.reader_options()
    assert off.decoding.reader_options()["second_look"] is None
    assert PlateReader.from_path("pretrained", **off.decoding.reader_options()).second_look is None
    assert PlateReader.from_path("pretrained", **on.decoding.reader_options()).second_look is not None


def test_the_server_reads_with_the_second_look_as_the_command_line_does(crops) -> None:
    look = SecondLook(below=0.95, views=("wide", "tighter"))
    reader = _reader(look)
    engine = ReadEngine(ServeSettings(), reader=reader)
    encoded = [cv2.imencode(".png", cv2.cvtColor(c, cv2.COLOR_RGB2BGR))[1].tobytes() for c in crops]
    served = engine.read_batch(encoded)
    direct = reader.read(crops, rgb=True, min_confidence=ServeSettings().decoding.min_confidence)
    assert [s["text"] for s in served] == [r.text for r in direct]
    assert [s["confidence"] for s in served] == [r.to_record()["confidence"] for r in direct]


def test_a_reader_files_second_look_applies_unless_turned_off(tmp_path) -> None:
    spec = {"format": "anpr-reader/1", "members": [str(FILES["onnx"])], "views": ["full"]}
    spec["second_look"] = {"below": 0.8, "views": ["wide", "tighter"]}
    path = tmp_path / "reader.json"
    path.write_text(json.dumps(spec))
    assert PlateReader.from_path(path).second_look == SecondLook(0.8, ("wide", "tighter"))
    assert PlateReader.from_path(path, second_look=None).second_look is None
    spec["second_look"] = None  # null in the file: no second look
    path.write_text(json.dumps(spec))
    assert PlateReader.from_path(path).second_look is None
    spec["second_look"] = {"below": 0.8, "views": ["wide", "tighter"]}
    path.write_text(json.dumps(spec))
    # the command line's --no-second-look is that None; without it the file's look holds
    import argparse

    parser = argparse.ArgumentParser()
    add_decoding_arguments(parser)
    off = decoding_options(parser.parse_args(["--no-second-look"]))
    assert PlateReader.from_path(path, **off).second_look is None
    assert PlateReader.from_path(path, **decoding_options(parser.parse_args([]))).second_look is not None
    assert PlateReader.from_path(FILES["onnx"], **decoding_options(parser.parse_args([]))).second_look is None


@pytest.mark.parametrize(
    "look, message",
    [
        ({"below": 0.9}, 'expected {"below"'),
        ({"below": "high", "views": ["wide"]}, r"confidence in \(0, 1\], not 'high'"),
        ({"below": 10**400, "views": ["wide"]}, r"confidence in \(0, 1\]"),
        ({"below": 1.5, "views": ["wide"]}, r"in \(0, 1\]"),
        ({"below": 0.9, "views": []}, "at least one view"),
        ({"below": 0.9, "views": "wide"}, "list of view names"),
        ({"below": 0.9, "views": ["zoom"]}, "unknown view 'zoom'"),
        ([0.9, "wide"], 'expected {"below"'),
    ],
)
def test_a_broken_second_look_says_what_is_wrong(tmp_path, look, message) -> None:
    path = tmp_path / "reader.json"
    path.write_text(json.dumps({"format": "anpr-reader/1", "members": [str(FILES["onnx"])], "second_look": look}))
    with pytest.raises(CheckpointError, match=message):
        PlateReader.from_path(path)


def test_a_second_look_is_built_only_from_known_views_and_a_confidence() -> None:
    with pytest.raises(SecondLookError, match="at least one view"):
        SecondLook(0.9, ())
    with pytest.raises(SecondLookError, match="unknown view 'zoom'"):
        SecondLook(0.9, ("zoom",))


def test_the_read_benchmark_counts_the_second_look_by_how_often_it_is_taken(tmp_path, crops) -> None:
    from anpr.bench.read import ReadSettings, run_read

    spec = {"format": "anpr-reader/1", "members": [str(FILES["onnx"])], "views": ["full"]}
    spec["second_look"] = {"below": 1.0, "views": ["wide", "tighter"]}  # every crop is read again
    (tmp_path / "reader.json").write_text(json.dumps(spec))
    folder = tmp_path / "crops"
    folder.mkdir()
    for i, crop in enumerate(crops[:3]):
        cv2.imwrite(str(folder / f"{i}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    settings = ReadSettings(plates=64, repeats=2, rounds=1, images=folder)
    table = run_read(["pretrained-v1", str(tmp_path / "reader.json")], settings, lambda _: None)
    assert f"Reading 3 crops from {folder}" in table and "batch 3 (plates/s)" in table
    rows = [[c.strip() for c in line.split("|")] for line in table.splitlines() if line.startswith("| `")]
    assert [r[4] for r in rows] == ["none", "100% (+2)"]


def test_large_photos_are_not_held_yet_read_as_crops_are(monkeypatch, crops) -> None:
    import anpr.inference.reader as reader_module

    look = SecondLook(below=1.0, views=("wide", "tighter"))
    held = _reader(look).read(crops, rgb=True)
    reader = _reader(look)
    assert reader.hold_for_second_look(crops[0]) is crops[0]  # a plate crop is kept as it is
    monkeypatch.setattr(reader_module, "HOLD_PIXELS", 0)  # every crop "large": boxes made at once
    assert set(reader.hold_for_second_look(crops[0])) == {"wide", "tighter"}
    made_at_once = reader.read(crops, rgb=True)
    assert [(r.text, r.confidence) for r in made_at_once] == [(r.text, r.confidence) for r in held]
    assert _reader(None).hold_for_second_look(crops[0]) is None
