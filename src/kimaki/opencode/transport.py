"""How kimaki talks to the shared OpenCode server: endpoint, auth, timeouts, decoding.

Every request has a timeout, names the directory of the instance it is about (OpenCode
picks the project instance from `?directory=`), and fails with an `OpenCodeError`
subclass that says what went wrong. The endpoint is looked up per request, so the
client follows the server across supervisor restarts (new port, same password).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from kimaki.opencode.endpoint import Endpoint, EndpointSource, current
from kimaki.opencode.errors import (
    OpenCodeError,
    OpenCodeStopped,
    OpenCodeUnavailable,
    http_error,
)

KEEPALIVE_SECONDS = 4.0


class Transport:
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
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """For good: later calls fail with `OpenCodeStopped` instead of opening a new
        session nobody would close, and calls in flight are cut (OpenCode goes on)."""
        self._closed = True
        if self._http is not None:
            await self._http.close()
            self._http = None

    def endpoint(self) -> Endpoint:
        endpoint = current(self._endpoint)
        if endpoint is None:
            raise OpenCodeUnavailable("the OpenCode server is not running (restarting?)")
        return endpoint

    def http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise OpenCodeStopped("kimaki's OpenCode client is closed (kimaki is stopping)")
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
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if self._closed:  # our own close cut it
                    raise OpenCodeStopped(f"{method} {path}: cut, kimaki is stopping") from exc
                dropped = isinstance(exc, aiohttp.ServerDisconnectedError)
                if dropped and attempt < attempts:
                    continue
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


def as_list(data: Any) -> list[Mapping[str, Any]]:
    if not isinstance(data, list):
        raise OpenCodeError(f"expected a JSON list, got {type(data).__name__}")
    return [item for item in data if isinstance(item, Mapping)]


def as_mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise OpenCodeError(f"expected a JSON object, got {type(data).__name__}")
    return data


def flags(**values: object) -> dict[str, str]:
    """Query parameters from keyword values: None left out, booleans as `true`/`false`."""
    params: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        params[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return params
