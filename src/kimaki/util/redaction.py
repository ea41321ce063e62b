"""The secrets kimaki knows (bot token, OpenCode server password), and hiding them.

One registry per process, because logging is per process: whoever learns a secret
remembers it here (the token loader, the OpenCode server), and every sink that might
see it — kimaki's log handlers, OpenCode's server log, the agent's environment —
asks this registry. Redaction at the sinks is the safety net; the code also never
logs a secret on purpose.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Iterable

REDACTED = "[redacted]"
# Shorter values would hide ordinary words; kimaki's secrets (a Discord bot token, the
# server password) are 40 characters or more.
MIN_SECRET_LENGTH = 16


class Secrets:
    """A set of secret strings and the ways each may show up in text."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self._listeners: list[Callable[[str], None]] = []
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._values:
                return
            # Longest first, so a secret containing another is hidden whole.
            self._values = tuple(sorted({*self._values, value}, key=len, reverse=True))
            listeners = list(self._listeners)
        for listener in listeners:
            listener(value)

    def listen(self, listener: Callable[[str], None]) -> None:
        """Tell `listener` each secret learned from now on (another process's sink: the
        OpenCode keeper's log)."""
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def add_basic_auth(self, user: str, password: str) -> None:
        """The password, and the `Authorization: Basic` form a request log would show."""
        self.add(password)
        self.add(base64.b64encode(f"{user}:{password}".encode()).decode())

    @property
    def values(self) -> tuple[str, ...]:
        return self._values

    def redact(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        for value in self._values:
            raw = value.encode()
            if raw in data:
                data = data.replace(raw, REDACTED.encode())
        return data


SECRETS = Secrets()
"""This process's secrets."""


def remember_secret(value: str) -> None:
    SECRETS.add(value)


class RedactingFilter(logging.Filter):
    """A handler filter that rewrites each record with every known secret hidden.

    It formats the message (and any traceback) itself, so a secret passed as an
    argument or carried in an exception's text is caught as well.
    """

    def __init__(self, secrets: Secrets = SECRETS) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets.values:
            return True
        message = record.getMessage()
        redacted = self.secrets.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.secrets.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.secrets.redact(record.stack_info)
        return True
