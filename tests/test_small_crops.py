"""Small crops to another reader: a reader file's ``small_crops`` sends crops under a height there."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from helpers import CountingBackend

from anpr.cli import calibrate as calibrate_cli
from anpr.data.synth import PlateSynthesizer
from anpr.evaluate.perturb import small
from anpr.inference import CheckpointError, PlateReader
from anpr.inference.small_crops import split_by_height
from anpr.pretrained import FILES
from anpr.serve.engine import ReadEngine
from anpr.serve.settings import ServeSettings

SEED = 6161  # plates no shipped model was trained on
BELOW = 25


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    """RGB crops, every other one made 16 px high as a distant plate is."""
    synth = PlateSynthesizer(SEED, two_line_fraction=0.25)
    images = [cv2.cvtColor(synth.render(i).image, cv2.COLOR_BGR2RGB) for i in range(10)]
    images = [cv2.resize(im, (im.shape[1] * 40 // im.shape[0], 40)) if im.shape[0] < BELOW else im for im in images]
    return [small(im, None) if i % 2 else im for i, im in enumerate(images)]


def write_reader(path, members, **extra) -> None:
    path.write_text(json.dumps({"format": "anpr-reader/1", "members": [str(m) for m in members], **extra}))


@pytest.fixture()
def routed(tmp_path):
    """A reader of v1 that sends crops under 25 px to a reader of plate_reader_field2 in two views."""
    write_reader(tmp_path / "small.json", [FILES["field2_onnx"]], views=["full", "tight"])
    route = {"below_height": BELOW, "reader": "small.json"}
    write_reader(tmp_path / "reader.json", [FILES["onnx"]], small_crops=route)
    return tmp_path


def test_small_crops_are_read_by_the_small_crop_reader_and_the_rest_as_before(routed, crops) -> None:
    reader = PlateReader.from_path(routed / "reader.json", threads=1)
    reader.backend = CountingBackend(reader.backend)
    small_reader = reader.small_crops.reader
    small_reader.backend = CountingBackend(small_reader.backend)
    reads = reader.read(crops, rgb=True, batch_size=4)  # batches mixing both sizes
    is_small = [c.shape[0] < BELOW for c in crops]
    assert sum(is_small) == 5
    assert reader.backend.crops == 5 and small_reader.backend.crops == 5 * 2  # the small reader's two views
    alone = PlateReader.from_path(routed / "small.json", threads=1).read(crops, rgb=True)
    plain = PlateReader.from_path(FILES["onnx"], threads=1).read(crops, rgb=True)
    for read, s, p, tiny in zip(reads, alone, plain, is_small):
        expected = s if tiny else p
        assert (read.text, read.confidence) == (expected.text, pytest.approx(expected.confidence))
    assert any(s.text != p.text or s.confidence != pytest.approx(p.confidence) for s, p in zip(alone, plain))


def test_the_server_routes_small_crops_as_the_command_line_does(routed, crops) -> None:
    reader = PlateReader.from_path(routed / "reader.json", threads=1)
    encoded = [cv2.imencode(".png", cv2.cvtColor(c, cv2.COLOR_RGB2BGR))[1].tobytes() for c in crops]
    served = ReadEngine(ServeSettings(), reader=reader).read_batch(encoded)
    direct = reader.read(crops, rgb=True, min_confidence=ServeSettings().decoding.min_confidence)
    assert [s["text"] for s in served] == [r.text for r in direct]
    assert [s["confidence"] for s in served] == [r.to_record()["confidence"] for r in direct]


def test_decoding_options_reach_the_small_crop_reader(routed) -> None:
    reader = PlateReader.from_path(routed / "reader.json", decoder="greedy", second_look=None)
    assert reader.small_crops.reader.decoder.decoder == "greedy"
    assert reader.small_crops.below_height == BELOW


def test_split_by_height_keeps_order() -> None:
    assert split_by_height([30, 16, 24, 25, 12], 25) == ([1, 2, 4], [0, 3])


@pytest.mark.parametrize(
    "route, message",
    [
        ({"below_height": 25}, 'expected {"below_height"'),
        ({"below_height": "tall", "reader": "small.json"}, "whole number of pixels"),
        ({"below_height": 24.5, "reader": "small.json"}, "whole number of pixels"),
        ({"below_height": 25, "reader": "missing.json"}, "reader file not found"),
        ({"below_height": 25, "reader": ""}, "must name a reader or model file"),
    ],
)
def test_a_broken_small_crop_route_says_what_is_wrong(routed, route, message) -> None:
    write_reader(routed / "bad.json", [FILES["onnx"]], small_crops=route)
    with pytest.raises(CheckpointError, match=message):
        PlateReader.from_path(routed / "bad.json")


def test_a_small_crop_reader_cannot_route_again(routed) -> None:
    write_reader(routed / "loop.json", [FILES["onnx"]], small_crops={"below_height": 20, "reader": "reader.json"})
    with pytest.raises(CheckpointError, match="cannot send crops on again"):
        PlateReader.from_path(routed / "loop.json")


def test_calibrating_on_damaged_plates_fits_another_power(routed, capsys) -> None:
    args = [str(routed / "small.json"), "--synth", "40"]
    assert calibrate_cli.main([*args, "--out", str(routed / "plain.json")]) == 0
    assert calibrate_cli.main([*args, "--condition", "small16", "--out", str(routed / "s16.json")]) == 0
    plain, s16 = (json.loads((routed / name).read_text()) for name in ("plain.json", "s16.json"))
    assert s16["confidence_power_fitted_on"].endswith(", small16")
    assert s16["confidence_power"] != plain["confidence_power"]
    assert calibrate_cli.main([*args, "--condition", "tiny"]) == 2
    assert "unknown condition 'tiny'" in capsys.readouterr().err
