"""A deadline on request headers, which uvicorn does not have: a client that opens a connection
and sends its headers a byte at a time (slow loris) is answered 408 and dropped after the read
timeout. The body has its own deadline, in :func:`anpr.serve.uploads.read_body`.

uvicorn answers many connections on one event loop, so a stalled one never holds up the others;
the deadline is what frees its socket.
"""

from __future__ import annotations

import asyncio
import json

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class ServeConfig(uvicorn.Config):
    """uvicorn's configuration plus the header deadline (it travels to ``--workers`` processes)."""

    def __init__(self, *args, header_timeout_s: float = 30.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = float(header_timeout_s)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose headers do not arrive in time."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is dropped too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        timeout = getattr(self.config, "header_timeout_s", 30.0)
        self._deadline = self.loop.call_later(timeout, self._on_deadline, timeout)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self, timeout: float) -> None:
        self._deadline = None
        if self.transport.is_closing() or (self.cycle is not None and not self.cycle.response_complete):
            return
        body = json.dumps(
            {"error": {"kind": "read_timeout", "message": f"request headers not received within {timeout:g} s"}}
        ).encode()
        head = (
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()
