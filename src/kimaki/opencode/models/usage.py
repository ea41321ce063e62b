"""Token counts and run errors, as OpenCode stores them on assistant messages and steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .wire import Json, get_int, get_obj, get_str

ErrorKind = Literal[
    "aborted", "auth", "rate_limit", "context_overflow", "output_length", "api", "unknown"
]


@dataclass(frozen=True)
class Tokens:
    """One step's (or a whole message's, or session's) tokens.

    OpenCode splits the provider's counts: `input` excludes cached input (`cache_read`),
    `output` excludes `reasoning`. Both reasoning and output are priced as output.
    """

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def context(self) -> int:
        """Tokens the step's context window held: what OpenCode's own UI shows as context."""
        return self.input + self.output + self.reasoning + self.cache_read + self.cache_write

    @classmethod
    def from_json(cls, data: Json) -> Tokens:
        cache = get_obj(data, "cache")
        return cls(
            input=get_int(data, "input") or 0,
            output=get_int(data, "output") or 0,
            reasoning=get_int(data, "reasoning") or 0,
            cache_read=get_int(cache, "read") or 0,
            cache_write=get_int(cache, "write") or 0,
        )


@dataclass(frozen=True)
class RunError:
    """Why a turn stopped: an assistant message's `error`, or a `session.error` event's."""

    name: str
    message: str
    status_code: int | None
    retryable: bool | None
    raw: Json = field(repr=False)

    @property
    def kind(self) -> ErrorKind:
        """What a person should be told, whatever the provider called it."""
        if self.name == "MessageAbortedError":
            return "aborted"
        if self.name == "ContextOverflowError":
            return "context_overflow"
        if self.name == "MessageOutputLengthError":
            return "output_length"
        if self.name == "ProviderAuthError" or self.status_code in (401, 403):
            return "auth"
        if self.status_code == 429:
            return "rate_limit"
        if self.name == "APIError":
            return "api"
        return "unknown"

    @classmethod
    def from_json(cls, data: Json) -> RunError:
        inner = get_obj(data, "data")
        retryable = inner.get("isRetryable")
        return cls(
            name=get_str(data, "name") or "UnknownError",
            message=get_str(inner, "message") or get_str(data, "message") or "",
            status_code=get_int(inner, "statusCode"),
            retryable=retryable if isinstance(retryable, bool) else None,
            raw=data,
        )
