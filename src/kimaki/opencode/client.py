"""Async client for the shared OpenCode server: REST calls and the global event stream.

Every request has a timeout, names the directory of the instance it is about (OpenCode
picks the project instance from `?directory=`), and fails with an `OpenCodeError`
subclass that says what went wrong. The endpoint is looked up per request, so the
client follows the server across supervisor restarts (new port, same password).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from kimaki.opencode.models import (
    Event,
    Health,
    Message,
    MessagePage,
    PermissionID,
    PermissionRequest,
    Project,
    QuestionID,
    QuestionRequest,
    Session,
    SessionID,
    SessionStatus,
    parse_event,
)
from kimaki.opencode.server import Endpoint

log = logging.getLogger(__name__)

EndpointSource = Endpoint | Callable[[], Endpoint | None]
KEEPALIVE_SECONDS = 4.0
PermissionReply = Literal["once", "always", "reject"]


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


@dataclass(frozen=True)
class TextInput:
    """A text part for a prompt. `synthetic` parts reach the model but are not the user's words."""

    text: str
    synthetic: bool = False

    def to_json(self) -> dict[str, Any]:
        part: dict[str, Any] = {"type": "text", "text": self.text}
        if self.synthetic:
            part["synthetic"] = True
        return part


class OpenCodeClient:
    """One aiohttp session, shared by all of kimaki's calls to OpenCode."""

    def __init__(
        self,
        endpoint: EndpointSource,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._endpoint = endpoint
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> OpenCodeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def endpoint(self) -> Endpoint:
        current = self._endpoint() if callable(self._endpoint) else self._endpoint
        if current is None:
            raise OpenCodeUnavailable("the OpenCode server is not running (restarting?)")
        return current

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            # OpenCode (Bun) drops idle keep-alive connections after ~10 s; a request sent
            # on one it just dropped fails with "Server disconnected". Closing ours first
            # avoids that for writes, which must not be retried blindly.
            connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS)
            self._http = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=self._timeout, sock_connect=self._connect_timeout
                ),
            )
        return self._http

    # --- REST

    async def health(self) -> Health:
        return Health.from_json(await self._json("GET", "/global/health", timeout=5))

    async def projects(self) -> list[Project]:
        data = await self._json("GET", "/project")
        return [Project.from_json(p) for p in _list(data)]

    async def sessions(
        self,
        directory: str,
        *,
        roots: bool = False,
        start: int | None = None,
        limit: int | None = None,
        search: str | None = None,
    ) -> list[Session]:
        """Sessions whose directory is exactly `directory`, newest `time.updated` first."""
        params: dict[str, str] = {}
        if roots:
            params["roots"] = "true"
        if start is not None:
            params["start"] = str(start)
        if limit is not None:
            params["limit"] = str(limit)
        if search:
            params["search"] = search
        data = await self._json("GET", "/session", directory=directory, params=params)
        return [Session.from_json(s) for s in _list(data)]

    async def session(self, session_id: SessionID, directory: str) -> Session:
        data = await self._json("GET", f"/session/{session_id}", directory=directory)
        return Session.from_json(_mapping(data))

    async def create_session(
        self, directory: str, *, title: str | None = None, parent_id: SessionID | None = None
    ) -> Session:
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if parent_id is not None:
            body["parentID"] = parent_id
        data = await self._json("POST", "/session", directory=directory, body=body)
        return Session.from_json(_mapping(data))

    async def messages(
        self,
        session_id: SessionID,
        directory: str,
        *,
        limit: int | None = None,
        before: str | None = None,
    ) -> MessagePage:
        """The newest `limit` messages (oldest first); `before` pages back in time."""
        params: dict[str, str] = {}
        if limit is not None:
            params["limit"] = str(limit)
        if before is not None:
            params["before"] = before
        data, headers = await self._request(
            "GET", f"/session/{session_id}/message", directory=directory, params=params
        )
        messages = tuple(Message.from_json(m) for m in _list(data))
        return MessagePage(messages, headers.get("x-next-cursor") or None)

    async def all_messages(
        self, session_id: SessionID, directory: str, *, page_size: int = 100
    ) -> list[Message]:
        """Every message of a session, oldest first, read page by page."""
        pages: list[tuple[Message, ...]] = []
        cursor: str | None = None
        while True:
            page = await self.messages(session_id, directory, limit=page_size, before=cursor)
            pages.append(page.messages)
            if not page.next_cursor or not page.messages:
                break
            cursor = page.next_cursor
        return [m for page in reversed(pages) for m in page]

    async def status(self, directory: str) -> dict[SessionID, SessionStatus]:
        """Busy and retrying sessions of this instance (idle ones are absent)."""
        data = _mapping(await self._json("GET", "/session/status", directory=directory))
        return {
            SessionID(k): SessionStatus.from_json(v)
            for k, v in data.items()
            if isinstance(v, Mapping)
        }

    async def prompt_async(
        self,
        session_id: SessionID,
        directory: str,
        parts: Sequence[TextInput],
        *,
        agent: str | None = None,
        model: tuple[str, str] | None = None,
    ) -> None:
        """Queue a prompt; OpenCode answers 204 at once and runs it (after a busy turn)."""
        body: dict[str, Any] = {"parts": [p.to_json() for p in parts]}
        if agent is not None:
            body["agent"] = agent
        if model is not None:
            body["model"] = {"providerID": model[0], "modelID": model[1]}
        await self._request(
            "POST", f"/session/{session_id}/prompt_async", directory=directory, body=body
        )

    async def abort(self, session_id: SessionID, directory: str) -> bool:
        data = await self._json("POST", f"/session/{session_id}/abort", directory=directory)
        return data is True

    async def permissions(self, directory: str | None = None) -> list[PermissionRequest]:
        data = await self._json("GET", "/permission", directory=directory)
        return [PermissionRequest.from_json(p) for p in _list(data)]

    async def reply_permission(
        self,
        request_id: PermissionID,
        reply: PermissionReply,
        *,
        message: str | None = None,
        directory: str | None = None,
    ) -> bool:
        body: dict[str, Any] = {"reply": reply}
        if message:
            body["message"] = message
        data = await self._json(
            "POST", f"/permission/{request_id}/reply", directory=directory, body=body
        )
        return data is True

    async def questions(self, directory: str | None = None) -> list[QuestionRequest]:
        data = await self._json("GET", "/question", directory=directory)
        return [QuestionRequest.from_json(q) for q in _list(data)]

    async def reply_question(
        self,
        request_id: QuestionID,
        answers: Sequence[Sequence[str]],
        *,
        directory: str | None = None,
    ) -> bool:
        body = {"answers": [list(a) for a in answers]}
        data = await self._json(
            "POST", f"/question/{request_id}/reply", directory=directory, body=body
        )
        return data is True

    # --- plumbing

    async def _json(
        self,
        method: str,
        path: str,
        *,
        directory: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        data, _ = await self._request(
            method, path, directory=directory, params=params, body=body, timeout=timeout
        )
        return data

    async def _request(
        self,
        method: str,
        path: str,
        *,
        directory: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> tuple[Any, Mapping[str, str]]:
        endpoint = self.endpoint()
        query = dict(params or {})
        if directory is not None:
            query["directory"] = directory
        kwargs: dict[str, Any] = {"params": query, "headers": endpoint.headers}
        if body is not None:
            kwargs["json"] = body
        if timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(
                total=timeout, sock_connect=min(timeout, self._connect_timeout)
            )
        url = endpoint.base_url + path
        # A read may be retried once on a dropped pooled connection; a write may not
        # (OpenCode could have acted on it).
        attempts = 2 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                async with self.http().request(method, url, **kwargs) as resp:
                    text = await resp.text()
                    data = _decode(text)
                    if resp.status >= 400:
                        raise _http_error(resp.status, data, text)
                    return data, resp.headers
            except aiohttp.ServerDisconnectedError as exc:
                if attempt < attempts:
                    continue
                raise OpenCodeUnavailable(f"{method} {path}: {exc}") from exc
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                what = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc)
                raise OpenCodeUnavailable(f"{method} {path}: {what or 'timed out'}") from exc
        raise AssertionError("unreachable")


def _decode(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _http_error(status: int, data: Any, text: str) -> OpenCodeHTTPError:
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


def _list(data: Any) -> list[Mapping[str, Any]]:
    if not isinstance(data, list):
        raise OpenCodeError(f"expected a JSON list, got {type(data).__name__}")
    return [item for item in data if isinstance(item, Mapping)]


def _mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise OpenCodeError(f"expected a JSON object, got {type(data).__name__}")
    return data


# --- the global event stream


@dataclass(frozen=True)
class Resync:
    """The stream (re)connected or a subscriber fell behind: events were missed.

    The stream does not replay what happened while it was down, so whoever gets
    this must re-read what it cares about over REST.
    """

    reason: Literal["connected", "reconnected", "overflow"]


StreamItem = Event | Resync


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    maximum: float = 10.0

    def delay(self, failures: int) -> float:
        base = min(self.maximum, self.first * 2 ** max(0, failures - 1))
        return float(base * random.uniform(0.8, 1.2))


class Subscription:
    """One consumer's view of the event stream: an async iterator of `StreamItem`s."""

    def __init__(self, stream: EventStream, maxsize: int) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[StreamItem] = asyncio.Queue(maxsize)

    def offer(self, item: StreamItem) -> None:
        """Queue an item; a consumer that fell behind gets one `Resync` instead of a backlog."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Resync("overflow"))

    async def get(self) -> StreamItem:
        return await self._queue.get()

    def close(self) -> None:
        self._stream.unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamItem]:
        while True:
            yield await self._queue.get()


class EventStream:
    """Reads `/global/event` forever and fans it out to subscribers.

    Reconnects with backoff when the connection drops or goes silent (the server
    sends a heartbeat about every 10 s), and tells every subscriber with `Resync`.
    """

    def __init__(
        self,
        client: OpenCodeClient,
        *,
        backoff: Backoff | None = None,
        silence_timeout: float = 35.0,
        queue_size: int = 10_000,
    ) -> None:
        self._client = client
        self._backoff = backoff or Backoff()
        self._silence_timeout = silence_timeout
        self._queue_size = queue_size
        self._subscribers: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connects = 0

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(sub)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="opencode-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected.clear()

    def _publish(self, item: StreamItem) -> None:
        for sub in list(self._subscribers):
            sub.offer(item)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                async for item in self._read_once():
                    failures = 0
                    self._publish(item)
                reason = "stream ended"
            except (OpenCodeError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                reason = str(exc) or type(exc).__name__
            self.connected.clear()
            failures += 1
            delay = self._backoff.delay(failures)
            log.info("opencode event stream lost (%s); reconnecting in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    async def _read_once(self) -> AsyncIterator[StreamItem]:
        endpoint = self._client.endpoint()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=self._silence_timeout)
        async with self._client.http().get(
            endpoint.base_url + "/global/event",
            timeout=timeout,
            headers={**endpoint.headers, "Accept": "text/event-stream"},
        ) as resp:
            if resp.status != 200:
                raise _http_error(resp.status, None, (await resp.text())[:300])
            self.connects += 1
            self.connected.set()
            yield Resync("connected" if self.connects == 1 else "reconnected")
            async for data in _sse_data(resp.content):
                try:
                    payload = json.loads(data)
                except ValueError:
                    log.warning("ignoring a malformed event: %.200s", data)
                    continue
                if isinstance(payload, Mapping):
                    yield parse_event(payload)


async def _sse_data(content: aiohttp.StreamReader) -> AsyncIterator[str]:
    """Yield the `data:` payload of each server-sent event (multi-line data joined).

    Splits lines itself: aiohttp's line iterator refuses lines over 128 KiB, and a
    part carrying a big tool output easily exceeds that.
    """
    buffer = b""
    lines: list[str] = []
    async for chunk in content.iter_any():
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not line:
                if lines:
                    yield "\n".join(lines)
                    lines = []
            elif line.startswith("data:"):
                lines.append(line[5:].removeprefix(" "))
    if lines:
        yield "\n".join(lines)
