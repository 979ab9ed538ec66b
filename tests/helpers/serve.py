"""What the `anpr serve` tests share: synthetic crops, hostile files, and a plain HTTP client."""

from __future__ import annotations

import base64
import json
import struct
import urllib.error
import urllib.request
import uuid
import zlib

import cv2
import numpy as np

from anpr.data.synth import PlateSynthesizer

SEED = 4242  # not a training seed: crops the shipped reader has not seen


def crops(n: int, seed: int = SEED, ext: str = ".png") -> list[bytes]:
    """``n`` synthetic plate crops encoded as ``ext``."""
    synth = PlateSynthesizer(seed)
    return [cv2.imencode(ext, synth.render(i).image)[1].tobytes() for i in range(n)]


def truncated_jpeg() -> bytes:
    data = crops(1, ext=".jpg")[0]
    return data[: len(data) * 2 // 3]


def gif() -> bytes:
    """A real 32x16 GIF (Pillow writes it)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("P", (32, 16)).save(out, format="GIF")
    return out.getvalue()


def one_pixel_png() -> bytes:
    return cv2.imencode(".png", np.zeros((1, 1, 3), np.uint8))[1].tobytes()


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A few kilobytes whose header declares ``width x height`` RGB pixels (4.8 GB decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 16, 9)  # the first 16 rows of black; a decoder allocates all
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def multipart(fields: list[tuple[str, bytes | str]]) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data request; bytes values are sent as files."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields:
        if isinstance(value, bytes):
            head = f'Content-Disposition: form-data; name="{name}"; filename="{name}.bin"\r\n'
            head += "Content-Type: application/octet-stream\r\n"
            data = value
        else:
            head, data = f'Content-Disposition: form-data; name="{name}"\r\n', value.encode()
        out += f"--{boundary}\r\n{head}\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def request(url: str, body: bytes | None = None, content_type: str | None = None, headers=None, timeout=60):
    """(status, parsed JSON or text) of a GET (no body) or POST; HTTP errors are answers, not raises."""
    headers = dict(headers or {})
    if content_type is not None:
        headers["Content-Type"] = content_type
    method = "GET" if body is None else "POST"
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as reply:
            status, data, kind = reply.status, reply.read(), reply.headers.get("content-type", "")
    except urllib.error.HTTPError as err:
        status, data, kind = err.code, err.read(), err.headers.get("content-type", "")
    return status, (json.loads(data) if "json" in kind else data.decode())


def read(url: str, images: list[bytes], **kwargs):
    """POST /read with the images as multipart fields named ``image``."""
    body, kind = multipart([("image", image) for image in images])
    return request(url + "/read", body, kind, **kwargs)


def read_json(url: str, images: list[bytes]):
    """POST /read with the images as JSON base64."""
    body = json.dumps({"images": [base64.b64encode(i).decode() for i in images]}).encode()
    return request(url + "/read", body, "application/json")
