"""Provider failures on demand, shaped like OpenAI's, and what OpenCode 1.18.33 makes of each.

Each helper returns a step that fails first and then (if OpenCode tries again) answers ``then``:

- ``auth_error``: HTTP 401. Not retried: the turn ends with ``APIError`` (``statusCode`` 401).
- ``rate_limited``: HTTP 429 with ``retry-after``. Retried after that many seconds (status
  ``retry``), then answered.
- ``server_errors``: a burst of HTTP 500s. Retried with growing delays (about 2 s, 4 s, 8 s…).
- ``context_overflow``: HTTP 400 with code ``context_length_exceeded``. OpenCode reports
  ``ContextOverflowError`` (event ``session.error``), compacts the session and carries on.
- ``broken_stream``: the stream drops after some content. Retried ("Connection reset by server").
"""

from __future__ import annotations

from .steps import BrokenStream, HttpFault, Step, text

AUTH = HttpFault(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key")
OVERFLOW = HttpFault(
    400,
    "This model's maximum context length is 128000 tokens. However, your messages resulted "
    "in 200000 tokens.",
    "invalid_request_error",
    "context_length_exceeded",
)


def rate_limit(retry_after: float | None = 1.0) -> HttpFault:
    headers = (("retry-after", f"{retry_after:g}"),) if retry_after is not None else ()
    return HttpFault(429, "Rate limit reached", "requests", "rate_limit_exceeded", headers)


def auth_error(then: Step | None = None) -> Step:
    return (then or text("authorised after all")).faulty(AUTH)


def rate_limited(then: Step | None = None, retry_after: float = 1.0, times: int = 1) -> Step:
    return (then or text("answered after the rate limit")).faulty(rate_limit(retry_after), times)


def server_errors(then: Step | None = None, times: int = 2, status: int = 500) -> Step:
    return (then or text("answered after the errors")).faulty(HttpFault(status), times)


def context_overflow(then: Step | None = None) -> Step:
    return (then or text("answered after compaction")).faulty(OVERFLOW)


def broken_stream(then: Step | None = None, after: int = 1, times: int = 1) -> Step:
    return (then or text("answered in full on the retry")).faulty(BrokenStream(after), times)
