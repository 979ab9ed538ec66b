"""Request bodies to image bytes: multipart ``image`` fields or JSON base64, read under limits.

The body is read here, chunk by chunk, rather than by the framework, so that a declared or actual
size over the limit is refused without buffering it, and a client that stops sending halfway is
dropped after the read timeout instead of holding a request open forever.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sys
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from anpr.serve.errors import ApiError
from anpr.serve.settings import MB, Limits

IMAGE_FIELD = "image"
MAX_FIELD_BYTES = 4096  # a text field of the review form (a plate, a decision)
DRAIN_BYTES = 256 * MB  # a body over the limit is read and discarded up to this size before the 413


@dataclass
class Upload:
    """What a request carried: images in order (raw bytes, or a problem found in transport), and
    the other form fields as text."""

    images: list[bytes | str] = field(default_factory=list)  # str: why this image's bytes are unusable
    fields: dict[str, str] = field(default_factory=dict)


async def read_body(request, limits: Limits) -> bytes:
    """The whole body, or :class:`ApiError` (413 too large, 408 too slow, 400 empty).

    A body over the limit is read on and thrown away (up to :data:`DRAIN_BYTES`, memory constant)
    before the 413 is sent: most clients send the whole body before reading the answer, and would
    see a reset connection instead of the 413 if the server stopped reading.
    """
    declared = request.headers.get("content-length")
    declared = int(declared) if declared is not None and declared.isdigit() else None
    collecting = _collect(request, limits.max_body_bytes, declared)
    try:
        if sys.version_info >= (3, 11):  # a deadline on this task; wait_for would start another task
            async with asyncio.timeout(limits.read_timeout_s):
                chunks = await collecting
        else:
            chunks = await asyncio.wait_for(collecting, limits.read_timeout_s)
    except asyncio.TimeoutError:
        raise ApiError(
            408, "read_timeout", f"request body not received within {limits.read_timeout_s:g} s", close=True
        ) from None
    if chunks is None:
        size = f"{declared / MB:.1f} MB" if declared else "over the limit"
        raise ApiError(
            413, "body_too_large", f"request body is {size}, over the {limits.max_body_bytes / MB:g} MB limit"
        )
    if not any(chunks):
        raise ApiError(400, "empty_body", "request body is empty: send images as multipart field 'image' or JSON")
    return b"".join(chunks)


async def _collect(request, max_bytes: int, declared: int | None) -> list[bytes] | None:
    """The body's chunks, or None when it is over ``max_bytes`` (then drained, not kept)."""
    if declared is not None and declared > DRAIN_BYTES:
        return None  # not worth reading: the client gets the 413 on a connection we then close
    chunks, size = [], 0
    over = declared is not None and declared > max_bytes
    async for chunk in request.stream():
        size += len(chunk)
        if size > DRAIN_BYTES:
            return None
        over = over or size > max_bytes
        if not over:
            chunks.append(chunk)
    return None if over else chunks


def parse_upload(content_type: str, body: bytes, max_images: int) -> Upload:
    """The images and fields of a ``multipart/form-data`` or ``application/json`` body."""
    media, options = parse_options_header(content_type or "")
    media = media.decode("latin-1").lower()
    if media == "multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise ApiError(400, "bad_multipart", "multipart/form-data without a boundary parameter")
        upload = parse_multipart(body, boundary)
    elif media == "application/json":
        upload = parse_json(body)
    else:
        raise ApiError(
            415,
            "unsupported_content_type",
            f"content type {media or '(none)'!r} is not read: send multipart/form-data (field 'image') "
            'or application/json ({"images": [base64, ...]})',
        )
    if len(upload.images) > max_images:
        raise ApiError(
            413, "too_many_images", f"{len(upload.images)} images in one request, over the limit of {max_images}"
        )
    return upload


def parse_multipart(body: bytes, boundary: bytes) -> Upload:
    upload = Upload()
    parts: list[tuple[bytes, bytearray]] = []  # (content-disposition, data)
    state = {"field": bytearray(), "value": bytearray(), "disposition": b""}

    def on_part_begin() -> None:
        state["disposition"] = b""
        parts.append((b"", bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        if bytes(state["field"]).lower() == b"content-disposition":
            parts[-1] = (bytes(state["value"]), parts[-1][1])
        state["field"], state["value"] = bytearray(), bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except Exception as err:  # python-multipart raises its own error types for malformed bodies
        raise ApiError(400, "bad_multipart", f"malformed multipart body ({err})") from None
    for disposition, data in parts:
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == IMAGE_FIELD:
            upload.images.append(bytes(data))
        elif name and len(data) <= MAX_FIELD_BYTES:
            upload.fields[name] = data.decode("utf-8", "replace")
    return upload


def parse_json(body: bytes) -> Upload:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, "bad_json", f"body is not JSON ({err})") from None
    images = payload.get("images") if isinstance(payload, dict) else None
    if not isinstance(images, list):
        raise ApiError(400, "no_images", 'JSON body must be {"images": ["<base64>", ...]}')
    return Upload(images=[decode_base64(item) for item in images])


def decode_base64(item: object) -> bytes | str:
    """Bytes of one base64 image (a ``data:`` URL prefix is allowed), or why not."""
    if not isinstance(item, str):
        return f"expected a base64 string, got {type(item).__name__}"
    if item.startswith("data:") and "," in item:
        item = item.split(",", 1)[1]
    try:
        return base64.b64decode(item, validate=True)
    except (binascii.Error, ValueError):
        return "not valid base64"
