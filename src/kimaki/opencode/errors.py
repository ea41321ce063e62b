"""What the OpenCode client raises: one base class, and the HTTP status decoded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class OpenCodeError(Exception):
    """Base for everything the client raises."""


class OpenCodeUnavailable(OpenCodeError):
    """The server could not be reached in time (down, restarting, or hung)."""


class OpenCodeStopped(OpenCodeUnavailable):
    """kimaki closed its client (it is stopping): a call in flight was cut by kimaki itself,
    so OpenCode may well carry on with it."""


class OpenCodeHTTPError(OpenCodeError):
    """The server answered with an error status."""

    def __init__(self, status: int, name: str | None, message: str, body: Any) -> None:
        super().__init__(f"HTTP {status}{f' {name}' if name else ''}: {message}")
        self.status = status
        self.name = name
        self.body = body


class NotFound(OpenCodeHTTPError):
    """The session, permission or question does not exist (any more)."""


class SessionBusy(OpenCodeHTTPError):
    """409: the session runs a turn; revert, unrevert and shell refuse until it is idle."""


def http_error(status: int, data: Any, text: str) -> OpenCodeHTTPError:
    """The error for a failed response.

    OpenCode 1.18.33 answers `{name, data: {message}}` (e.g. `NotFoundError`, `BadRequest`)
    or `{_tag, message}` (e.g. `SessionBusyError`; a bare `{"_tag": "BadRequest"}` for a
    body it cannot use). An unexpected failure is 500 `UnknownError` whose message only
    points at the server log.
    """
    name: str | None = None
    message = text[:300]
    if isinstance(data, Mapping):
        tag = data.get("name") or data.get("_tag")
        name = tag if isinstance(tag, str) else None
        inner = data.get("data")
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            message = inner["message"]
        elif isinstance(data.get("message"), str):
            message = data["message"]
    cls = {404: NotFound, 409: SessionBusy}.get(status, OpenCodeHTTPError)
    return cls(status, name, message, data)
