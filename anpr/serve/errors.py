"""One shape for every refusal: ``{"error": {"kind", "message"}}`` with a 4xx/5xx status, so a
client can branch on ``kind`` and a person can read ``message``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the server will not serve; ``kind`` is stable, ``message`` says what to change."""

    def __init__(self, status: int, kind: str, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.close = close  # drop the connection after answering (a client that stalls)

    def body(self, **extra: Any) -> dict[str, Any]:
        return {"error": {"kind": self.kind, "message": self.message}, **extra}
