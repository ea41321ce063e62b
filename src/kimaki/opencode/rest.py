"""Async REST client for the shared OpenCode server.

Every request has a timeout, names the directory of the instance it is about (OpenCode
picks the project instance from `?directory=`), and fails with an `OpenCodeError`
subclass that says what went wrong. The endpoint is looked up per request, so the
client follows the server across supervisor restarts (new port, same password).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import aiohttp

from kimaki.opencode.endpoint import Endpoint, EndpointSource, current
from kimaki.opencode.errors import OpenCodeError, OpenCodeUnavailable, http_error
from kimaki.opencode.models import (
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
)
from kimaki.opencode.prompt import TextInput

KEEPALIVE_SECONDS = 4.0
PermissionReply = Literal["once", "always", "reject"]


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
        endpoint = current(self._endpoint)
        if endpoint is None:
            raise OpenCodeUnavailable("the OpenCode server is not running (restarting?)")
        return endpoint

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
                        raise http_error(resp.status, data, text)
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


def _list(data: Any) -> list[Mapping[str, Any]]:
    if not isinstance(data, list):
        raise OpenCodeError(f"expected a JSON list, got {type(data).__name__}")
    return [item for item in data if isinstance(item, Mapping)]


def _mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise OpenCodeError(f"expected a JSON object, got {type(data).__name__}")
    return data
