"""`anpr serve` end to end: a real server in a subprocess, a real HTTP client, every bad input."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time

import pytest
from helpers.serve import crops, gif, multipart, one_pixel_png, png_bomb, read, read_json, request, truncated_jpeg

from anpr.pretrained import FILES
from anpr.serve.process import ServerProcess

READ_TIMEOUT_S = 2.0
MEMORY_LIMIT = int(1.5 * 2**30)


@pytest.fixture(scope="module")
def server():
    with ServerProcess("pretrained", ["--read-timeout", str(READ_TIMEOUT_S), "--threads", "1"]) as running:
        yield running


def serves_normally(server: ServerProcess) -> None:
    """The next good request after a bad one is read as usual."""
    status, body = read(server.url, crops(1))
    assert status == 200, body
    assert body["results"][0]["text"] and 0 < body["results"][0]["confidence"] <= 1


def refused(server: ServerProcess, status: int, kind: str, reply) -> dict:
    got_status, body = reply
    assert got_status == status, body
    assert body["error"]["kind"] == kind and body["error"]["message"], body
    serves_normally(server)
    return body


@pytest.mark.slow
def test_not_an_image(server):
    body = refused(server, 415, "not_an_image", read(server.url, [b"just some text, not pixels\n" * 20]))
    assert body["results"] == [{"error": body["error"]}]


@pytest.mark.slow
def test_empty_body(server):
    refused(server, 400, "empty_body", request(server.url + "/read", b"", "multipart/form-data; boundary=x"))


@pytest.mark.slow
def test_empty_image_field(server):
    refused(server, 400, "empty_image", read(server.url, [b""]))


@pytest.mark.slow
def test_truncated_jpeg(server):
    refused(server, 422, "truncated_image", read(server.url, [truncated_jpeg()]))


@pytest.mark.slow
def test_gif(server):
    body = refused(server, 415, "unsupported_format", read(server.url, [gif()]))
    assert "GIF" in body["error"]["message"]


@pytest.mark.slow
def test_one_pixel_image(server):
    body = refused(server, 422, "too_small", read(server.url, [one_pixel_png()]))
    assert "1x1" in body["error"]["message"]


@pytest.mark.slow
def test_decompression_bomb_is_refused_from_its_header(server):
    bomb = png_bomb()
    assert len(bomb) < 10_000
    body = refused(server, 413, "too_many_pixels", read(server.url, [bomb]))
    assert "40000x40000" in body["error"]["message"]
    assert server.peak_memory_bytes() < MEMORY_LIMIT


@pytest.mark.slow
def test_fifty_megabyte_upload(server):
    body, kind = multipart([("image", b"\xff\xd8\xff" + b"\x00" * (50 * 2**20))])
    refused(server, 413, "body_too_large", request(server.url + "/read", body, kind))
    assert server.peak_memory_bytes() < MEMORY_LIMIT


@pytest.mark.slow
def test_wrong_content_type(server):
    body = refused(server, 415, "unsupported_content_type", request(server.url + "/read", crops(1)[0], "image/png"))
    assert "multipart/form-data" in body["error"]["message"]


@pytest.mark.slow
def test_bad_json_and_bad_base64(server):
    refused(server, 400, "bad_json", request(server.url + "/read", b"{not json", "application/json"))
    body = refused(server, 400, "bad_base64", request(server.url + "/read", b'{"images": ["%%%"]}', "application/json"))
    assert len(body["results"]) == 1


@pytest.mark.slow
def test_too_many_images(server):
    refused(server, 413, "too_many_images", read(server.url, crops(1) * 65))


def slow_connection(server: ServerProcess, first: bytes) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=READ_TIMEOUT_S * 5)
    sock.sendall(first)
    return sock


def answer_of(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):  # until the server closes the connection
        data += chunk
    return data


@pytest.mark.slow
def test_slow_loris_headers_are_dropped_after_the_read_timeout_without_holding_up_others(server):
    sock = slow_connection(server, b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-")
    start = time.monotonic()
    serves_normally(server)  # while the slow client stalls
    answer = answer_of(sock)
    waited = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408") and b'"read_timeout"' in answer, answer
    assert READ_TIMEOUT_S * 0.8 < waited < READ_TIMEOUT_S + 3
    serves_normally(server)


@pytest.mark.slow
def test_slow_loris_body_is_dropped_after_the_read_timeout(server):
    body, kind = multipart([("image", crops(1)[0])])
    head = f"POST /read HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    sock = slow_connection(server, head + body[:100])
    start = time.monotonic()
    serves_normally(server)
    answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b'"read_timeout"' in answer, answer
    assert time.monotonic() - start < READ_TIMEOUT_S + 3
    serves_normally(server)


@pytest.mark.slow
def test_one_bad_image_among_good_ones_is_an_error_in_its_place(server):
    good = crops(2)
    status, body = read(server.url, [good[0], gif(), good[1]])
    assert status == 200, body
    first, bad, last = body["results"]
    assert first["text"] and last["text"] and bad["error"]["kind"] == "unsupported_format"
    from anpr.serve import schema  # the OpenAPI document describes what is answered

    assert schema.ReadResponse.model_validate(body).model_dump(mode="json", exclude_none=True) == body
    refusal = read(server.url, [gif()])[1]
    assert schema.ErrorResponse.model_validate(refusal).model_dump(mode="json", exclude_none=True) == refusal


@pytest.mark.slow
def test_json_base64_reads_the_same_as_multipart(server):
    images = crops(3)
    multipart_reply, json_reply = read(server.url, images), read_json(server.url, images)
    assert multipart_reply[0] == json_reply[0] == 200
    assert [r["text"] for r in multipart_reply[1]["results"]] == [r["text"] for r in json_reply[1]["results"]]


@pytest.mark.slow
def test_health_readiness_metrics_and_openapi(server):
    assert request(server.url + "/healthz") == (200, {"status": "ok"})
    assert request(server.url + "/readyz")[1]["status"] == "ready"
    threads = [threading.Thread(target=read, args=(server.url, crops(1))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    status, text = request(server.url + "/metrics")
    assert status == 200
    for name in ("anpr_requests_total", "anpr_image_errors_total", "anpr_request_latency_seconds_bucket"):
        assert name in text
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("anpr_batch_size_"))
    assert float(samples["anpr_batch_size_sum"]) > float(samples["anpr_batch_size_count"])  # some batch held several
    status, spec = request(server.url + "/openapi.json")
    assert status == 200 and {"/read", "/healthz", "/readyz", "/metrics", "/review"} <= set(spec["paths"])
    assert request(server.url + "/no/such/thing")[1]["error"]["kind"] == "not_found"


@pytest.mark.slow
def test_the_same_reads_as_predict_json(server, tmp_path, capsys):
    from anpr.cli.predict import main as predict

    paths = []
    for ext, seed, n in ((".jpg", 77, 5), (".png", 78, 3)):
        for i, data in enumerate(crops(n, seed=seed, ext=ext)):
            paths.append(tmp_path / f"crop_{seed}_{i}{ext}")
            paths[-1].write_bytes(data)
    arguments = ["pretrained", *map(str, paths), "--json", "--min-confidence", "0.9", "--threads", "1"]
    assert predict(arguments) == 0
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    status, body = read(server.url, [p.read_bytes() for p in paths])
    assert status == 200
    for want, got in zip(expected, body["results"], strict=True):
        want.pop("path")
        assert got["text"] == want["text"] and got["valid_format"] == want["valid_format"]
        assert got["review"] == want["review"] and got.get("free_text") == want.get("free_text")
        assert got["confidence"] == pytest.approx(want["confidence"], rel=1e-4)
        assert [a[0] for a in got["alternatives"]] == [a[0] for a in want["alternatives"]]


@pytest.mark.slow
def test_sigterm_during_load_answers_what_is_in_flight_and_exits_0():
    server = ServerProcess("pretrained", ["--threads", "1"]).start()
    try:
        answers, stop = [], threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    answers.append(read(server.url, crops(1), timeout=10)[0])
                except OSError:  # refused once the server has stopped accepting
                    return

        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        body, kind = multipart([("image", image) for image in crops(24)])
        head = f"POST /read HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
        in_flight = slow_connection(server, head.encode() + body[:-10])  # a request half sent...
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)  # ...when the server is told to stop
        time.sleep(0.3)
        in_flight.sendall(body[-10:])
        answer = answer_of(in_flight)
        code = server.process.wait(15)
        stop.set()
        for client in clients:
            client.join(15)
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert len(json.loads(answer.split(b"\r\n\r\n", 1)[1])["results"]) == 24
    assert code == 0, server.stderr()
    assert answers and set(answers) == {200}


@pytest.mark.slow
def test_two_worker_processes_serve_and_stop_cleanly():
    with ServerProcess("pretrained", ["--workers", "2"]) as server:
        replies = [read(server.url, crops(1)) for _ in range(6)]
        assert all(status == 200 or body["error"]["kind"] == "not_ready" for status, body in replies)
        assert server.terminate() == 0, server.stderr()


def test_the_listening_socket_lets_asyncio_turn_nagle_off():
    """asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP; without it every answer
    waited ~40 ms for the client's delayed ACK."""
    from anpr.serve.server import listen

    with listen("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@pytest.mark.slow
def test_the_load_test_counts_plates_latency_cpu_and_memory(server, tmp_path):
    import asyncio

    from anpr.serve.loadtest import drive, load_images, report

    for i, data in enumerate(crops(6, seed=5)):
        (tmp_path / f"crop_{i}.png").write_bytes(data)
    (tmp_path / "notes.txt").write_text("not a crop")
    images = load_images(tmp_path)
    assert [name for name, _ in images] == [f"crop_{i}.png" for i in range(6)]
    result = asyncio.run(drive(server.url, images, clients=4, seconds=1.0, warmup_s=0.2, server_pid=server.pid))
    result.peak_memory_bytes = server.peak_memory_bytes()
    assert result.requests > 4 and result.plates == result.requests and not result.errors
    assert 0 < result.percentile(0.5) <= result.percentile(0.99) < 5
    assert result.cpu["server"] > 0
    table = report(result, tmp_path)
    assert "| 4 |" in table and "plates/s" in table and "MiB" in table and "CPU while counting" in table


@pytest.mark.slow
def test_info_says_which_crops_get_a_second_look_and_which_the_small_crop_reader(server):
    import urllib.request

    with urllib.request.urlopen(server.url + "/info", timeout=10) as reply:
        info = json.loads(reply.read())
    assert info["ready"] is True and info["model"] == "pretrained"
    reader = json.loads(FILES["reader"].read_text())
    assert info["second_look"] == reader["second_look"]
    assert info["small_crops"] == {"below_height": 25, "reader": str(FILES["reader_small"])}
