"""What the OpenCode client raises: one base class, and the HTTP status decoded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class OpenCodeError(Exception):
    """Base for everything the client raises."""


class OpenCodeUnavailable(OpenCodeError):
    """The server could not be reached in time (down, restarting, or hung)."""


class OpenCodeHTTPError(OpenCodeError):
    """The server answered with an error status."""

    def __init__(self, status: int, name: str | None, message: str, body: Any) -> None:
        super().__init__(f"HTTP {status}{f' {name}' if name else ''}: {message}")
        self.status = status
        self.name = name
        self.body = body


class NotFound(OpenCodeHTTPError):
    """The session, permission or question does not exist (any more)."""


def http_error(status: int, data: Any, text: str) -> OpenCodeHTTPError:
    """The error for a failed response; OpenCode's `{name, data: {message}}` when it sent one."""
    name: str | None = None
    message = text[:300]
    if isinstance(data, Mapping):
        name = data.get("name") if isinstance(data.get("name"), str) else None
        inner = data.get("data")
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            message = inner["message"]
        elif isinstance(data.get("message"), str):
            message = data["message"]
    cls = NotFound if status == 404 else OpenCodeHTTPError
    return cls(status, name, message, data)
