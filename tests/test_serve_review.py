"""The review endpoints: reviewed crops become a rec dataset `anpr check` accepts; tokens, origins
and paths are the server's to decide."""

from __future__ import annotations

import json

import pytest
from helpers.serve import crops, gif, multipart, read, request

from anpr.serve.process import ServerProcess

TOKEN = "review-token-for-tests"


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviewed")
    with ServerProcess("pretrained", ["--review-dir", str(folder), "--token", TOKEN, "--threads", "1"]) as running:
        running.folder = folder
        yield running


def review(server, image: bytes, text: str, decision: str, token: str | None = TOKEN, **extra):
    fields = [("image", image), ("text", text), ("decision", decision), *extra.items()]
    body, kind = multipart(fields)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return request(server.url + "/review", body, kind, headers=headers)


def labels(folder) -> dict[str, str]:
    lines = (folder / "labels.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t") for line in lines)


@pytest.mark.slow
def test_accepted_and_corrected_reads_land_in_a_dataset_anpr_check_accepts(review_server, capsys):
    from anpr.cli.check import main as check

    first, second = crops(2, seed=99)
    status, body = read(review_server.url, [first])
    read_text = body["results"][0]["text"]
    status, saved = review(review_server, first, read_text, "accepted")
    assert status == 200, saved
    status, corrected = review(review_server, second, "mh-12 ab 1234", "corrected")
    assert status == 200, corrected
    assert corrected["text"] == "MH12AB1234"  # normalised as anpr check normalises labels
    from anpr.serve import schema  # the OpenAPI document describes what is answered

    assert schema.Review.model_validate(saved).model_dump(mode="json") == saved

    found = labels(review_server.folder)
    assert found[saved["image"]] == read_text and found[corrected["image"]] == "MH12AB1234"
    side = {r["image"]: r for r in map(json.loads, (review_server.folder / "reviews.jsonl").read_text().splitlines())}
    assert side[saved["image"]]["decision"] == "accepted" and side[saved["image"]]["read_text"] == read_text
    assert side[corrected["image"]]["read_confidence"] > 0 and side[corrected["image"]]["reviewed_at"]
    assert (review_server.folder / "images" / saved["image"]).read_bytes() == first

    folder = review_server.folder
    code = check(["--images-dir", str(folder / "images"), "--labels-file", str(folder / "labels.txt"), "--no-cache"])
    assert code == 0, capsys.readouterr()


@pytest.mark.slow
def test_a_text_outside_the_grammar_needs_confirming_and_bad_characters_never_save(review_server):
    image = crops(1, seed=101)[0]
    status, body = review(review_server, image, "HELLO1", "corrected")
    assert status == 422 and body["error"]["kind"] == "invalid_format" and "HELLO1" in body["error"]["message"]
    status, body = review(review_server, image, "HELLO1", "corrected", allow_invalid="true")
    assert status == 200 and labels(review_server.folder)[body["image"]] == "HELLO1"
    status, body = review(review_server, image, "KL07€1234", "corrected")
    assert status == 422 and body["error"]["kind"] == "bad_text"
    status, body = review(review_server, image, "KL07AB1234", "maybe")
    assert status == 422 and body["error"]["kind"] == "bad_decision"
    status, body = review(review_server, gif(), "KL07AB1234", "corrected")
    assert status == 415 and body["error"]["kind"] == "unsupported_format"


@pytest.mark.slow
def test_reviewing_a_crop_again_keeps_one_line(review_server):
    image = crops(1, seed=102)[0]
    review(review_server, image, "KA01AB1234", "corrected")
    status, body = review(review_server, image, "KA01AB1235", "corrected")
    assert status == 200
    lines = (review_server.folder / "labels.txt").read_text().splitlines()
    assert [line for line in lines if line.startswith(body["image"])] == [f"{body['image']}\tKA01AB1235"]


@pytest.mark.slow
def test_the_token_and_our_origin_are_required_and_names_are_never_the_clients(review_server):
    image = crops(1, seed=103)[0]
    status, body = review(review_server, image, "KA01AB1234", "corrected", token=None)
    assert status == 401 and body["error"]["kind"] == "unauthorized"
    status, body = review(review_server, image, "KA01AB1234", "corrected", token="wrong-token")
    assert status == 401
    form, kind = multipart([("image", image), ("text", "KA01AB1234"), ("decision", "corrected")])
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"}
    status, body = request(review_server.url + "/review", form, kind, headers=headers)
    assert status == 403 and body["error"]["kind"] == "foreign_origin"
    assert request(review_server.url + "/reviews")[0] == 401

    form = form.replace(b'filename="image.bin"', b'filename="../../escape.png"')
    status, body = request(review_server.url + "/review", form, kind, headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "/" not in body["image"] and body["image"].startswith("review_")
    assert not (review_server.folder.parent / "escape.png").exists()
    status, listing = request(review_server.url + "/reviews", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and listing["count"] >= 1 and listing["recent"][0]["image"] == body["image"]


def test_off_loopback_saving_reviews_needs_a_token(tmp_path, capsys):
    from anpr.cli.serve import main as serve

    assert serve(["pretrained", "--host", "0.0.0.0", "--review-dir", str(tmp_path), "--token", ""]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: --host 0.0.0.0") and "--token" in err[0]
    assert serve(["no-such-model.onnx"]) == 2
    assert capsys.readouterr().err.startswith("error: ONNX file not found")
