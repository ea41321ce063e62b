"""A loopback reverse proxy in front of the real OpenCode server that answers some calls late.

For tests of Discord's 3-second interaction deadline and of a slow or older OpenCode:
kimaki talks to OpenCode through the proxy, which waits `delay` seconds before
forwarding a request whose method and path (and chosen query values) match, answers
refused routes itself (404: a route this OpenCode lacks), drops the connection of cut
routes unanswered (before or after passing the request on), and passes everything else
through unchanged (the event stream included).
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp import web

from kimaki.opencode.endpoint import Endpoint

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


class SlowProxy:
    def __init__(self, upstream: Callable[[], Endpoint | None]) -> None:
        self.upstream = upstream
        self.delays: list[tuple[str, str, float, Mapping[str, str]]] = []
        self.delayed: list[str] = []
        """`METHOD path` of every request that was held back."""
        self.refusals: list[tuple[str, str, int]] = []
        self.refused: list[str] = []
        """`METHOD path` of every request answered by the proxy itself."""
        self.cuts: list[tuple[str, str, bool]] = []
        self.cut_off: list[str] = []
        """`METHOD path` of every request whose connection the proxy dropped."""
        self._drop = asyncio.Event()
        self._passing: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._handlers: set[asyncio.Task[object]] = set()
        self.base_url = ""

    def slow_down(
        self, method: str, path_glob: str, delay: float, query: Mapping[str, str] | None = None
    ) -> None:
        """Hold matching requests `delay` seconds (only those with these query values)."""
        self.delays.append((method, path_glob, delay, query or {}))

    def refuse(self, method: str, path_glob: str, status: int = 404) -> None:
        """Answer matching requests with `status` (an OpenCode that lacks the route)."""
        self.refusals.append((method, path_glob, status))

    def cut(self, method: str, path_glob: str, *, pass_on: bool) -> None:
        """Drop matching requests' connections without an answer: at once, unseen by
        OpenCode (`pass_on=False`), or after passing them on, when `drop()` is called
        (OpenCode acts on the request; its answer is lost)."""
        self.cuts.append((method, path_glob, pass_on))

    def drop(self) -> None:
        """Cut the connections of the passed-on requests `cut` holds."""
        self._drop.set()

    def endpoint(self) -> Endpoint | None:
        real = self.upstream()
        return Endpoint(self.base_url, real.password) if real is not None else None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False
        )

    async def stop(self) -> None:
        for handler in [
            *self._handlers,
            *self._passing,
        ]:  # open event streams would hold cleanup for 60 s
            handler.cancel()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            return await self._relay(request)
        finally:
            self._handlers.discard(handler)

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        for method, glob, pass_on in self.cuts:
            if request.method == method and fnmatch.fnmatch(request.path, glob):
                return await self._cut(request, pass_on)
        for method, glob, status in self.refusals:
            if request.method == method and fnmatch.fnmatch(request.path, glob):
                self.refused.append(f"{request.method} {request.path}")
                body = {"name": "NotFoundError", "data": {"message": "refused by the proxy"}}
                return web.json_response(body, status=status)
        for method, glob, delay, query in self.delays:
            if (
                request.method == method
                and fnmatch.fnmatch(request.path, glob)
                and all(request.query.get(k) == v for k, v in query.items())
            ):
                self.delayed.append(f"{request.method} {request.path}")
                await asyncio.sleep(delay)  # the behaviour under test: a slow OpenCode
        real = self.upstream()
        assert real is not None and self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._http.request(
            request.method,
            real.base_url + request.path_qs,
            headers=headers,
            data=await request.read(),
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_HEADERS:
                    response.headers[key] = value
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _cut(self, request: web.Request, pass_on: bool) -> web.StreamResponse:
        if pass_on:
            passing = asyncio.create_task(self._pass_on(request, await request.read()))
            self._passing.add(passing)
            passing.add_done_callback(self._passing.discard)
            await self._drop.wait()
        self.cut_off.append(f"{request.method} {request.path}")
        assert request.transport is not None
        request.transport.close()
        return web.Response()  # never written: the connection is gone

    async def _pass_on(self, request: web.Request, body: bytes) -> None:
        """Send `request` to OpenCode and throw its answer away."""
        real = self.upstream()
        assert real is not None and self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        url = real.base_url + request.path_qs
        async with self._http.request(request.method, url, headers=headers, data=body) as answer:
            await answer.read()
