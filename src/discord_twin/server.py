"""The aiohttp application: wiring plus the REST middleware (request log, auth, faults, rate
limits, Discord-format errors, unknown routes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import errors as E
from .errors import TwinError
from .events import EventLog
from .faults import Faults, HTTPFault, RequestHold
from .gateway import GatewayHub
from .http_util import APP_KEY, BODY_KEY, buffer_body, json_response
from .ops import Ops
from .ratelimit import Decision, RateLimiter, bucket_hash, rate_limit_headers
from .rest import API, RestApi
from .state import Application, Store
from .web_live import close_pages

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TOKEN_ROUTES = ("/interactions/", "/webhooks/")


@dataclass(slots=True)
class RequestRecord:
    """One REST call the bot made: what a test inspects to see how the bot used the API."""

    method: str
    path: str
    route: str | None
    status: int = 0
    body: Any = None
    at: float = field(default_factory=time.time)
    unknown: bool = False
    query: dict[str, str] = field(default_factory=dict)
    monotonic: float = field(default_factory=time.monotonic)
    """When it arrived, on `time.monotonic()` (for rate-limit tests that compare call times)."""
    duration: float | None = None
    """Seconds until the twin answered (None while held or in progress)."""
    held: bool = False


class Core:
    """Everything the server holds; `Twin` (control.py) wraps it with the test-facing API."""

    def __init__(self, *, rate_limits: str = "generous", heartbeat_interval_ms: int = 41_250):
        self.store = Store()
        self.events = EventLog()
        self.gateway = GatewayHub(
            self.store, self.events, heartbeat_interval_ms=heartbeat_interval_ms
        )
        self.ops = Ops(self.store, self.events, self.gateway)
        self.ratelimits = RateLimiter(rate_limits)
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self.rest = RestApi(self.store, self.ops, self.gateway)

    def make_app(self) -> web.Application:
        # Bodies past the upload limit must still arrive whole, to be answered 413 / 40005.
        max_body = max(64, self.ops.upload_limit // 2**20 + 2) * 2**20
        app = web.Application(middlewares=[self._middleware], client_max_size=max_body)
        self.rest.add_routes(app.router)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        app.on_shutdown.append(close_pages)  # the web client's live sockets (viewer.py)
        return app

    async def _attachment(self, request: web.Request) -> web.Response:
        """The CDN: the bytes with the content type the attachment object reports.

        HTTP faults apply here too (`add_http_fault("GET", "/attachments/**", 404)`): an
        attachment link that expired, or a CDN that failed."""
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.status is not None:
            return web.Response(status=fault.status, text="attachment not available")
        try:
            attachment = self.store.attachments.get(int(request.match_info["attachment_id"]))
        except ValueError:
            attachment = None
        if attachment is None:
            raise web.HTTPNotFound()
        content_type = attachment.content_type or "application/octet-stream"
        return web.Response(body=attachment.data, headers={"Content-Type": content_type})

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        path = request.path[len(API) :] if request.path.startswith(API) else request.path[4:]
        record = RequestRecord(
            method=request.method, path=path, route=None, query=dict(request.query)
        )
        self.requests.append(record)
        response = await self._api_call(request, handler, record)
        record.duration = time.monotonic() - record.monotonic
        record.status = response.status
        if record.body is None:
            record.body = request.get(BODY_KEY)
        self.events.append("request", record)
        return response

    async def _api_call(
        self, request: web.Request, handler: Handler, record: RequestRecord
    ) -> web.StreamResponse:
        if request.match_info.http_exception is not None or not request.path.startswith(API):
            record.unknown = True
            return json_response({"message": "404: Not Found", "code": 0}, status=404)
        resource = request.match_info.route.resource
        template = resource.canonical[len(API) :] if resource is not None else record.path
        record.route = template
        app = self._authenticate(request, template)
        if app is None:
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        request[APP_KEY] = app
        hold = self.faults.take_hold(request.method, record.path)
        if hold is not None and not hold.after_processing:
            try:
                await buffer_body(request)  # it arrived whole, even if the client dies while held
            except TwinError as exc:
                return json_response(exc.body(), status=exc.status)
            await self._held(hold, record)
        response = await self._answer(request, handler, template, record)
        if hold is not None and hold.after_processing:
            await self._held(hold, record)
        return response

    async def _held(self, hold: RequestHold, record: RequestRecord) -> None:
        record.held = True
        self.events.append("request_held", record)
        await hold.until_released()

    async def _answer(
        self, request: web.Request, handler: Handler, template: str, record: RequestRecord
    ) -> web.StreamResponse:
        fault = self.faults.take(request.method, record.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return _fault_response(fault, request.method, template)
        decision = await self._rate_limit(request, template)
        if decision.limited:
            return _too_many(decision)
        try:
            self._check_access(request)
            response = await handler(request)
        except TwinError as exc:
            response = json_response(exc.body(), status=exc.status)
        for name, value in decision.headers.items():
            response.headers[name] = value
        return response

    def _check_access(self, request: web.Request) -> None:
        """A channel (or a thread under it) whose access a test revoked answers 403."""
        raw = request.match_info.get("channel_id")
        channel = self.store.channels.get(int(raw)) if raw and raw.isdigit() else None
        if channel is None or not self.faults.denied:
            return
        for channel_id in (channel.id, channel.parent_id):
            code = self.faults.denied.get(channel_id or 0)
            if code is not None:
                message = "Missing Access" if code == E.MISSING_ACCESS else "Missing Permissions"
                raise TwinError(403, code, message)

    def _authenticate(self, request: web.Request, template: str) -> Application | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bot "):
            app = self.store.application_for_token(header[4:])
            if app is not None:
                return app
        if template.startswith(_TOKEN_ROUTES):
            # Interaction callbacks and webhooks authenticate with the token in the path.
            return self._app_for_token_route(request)
        return None

    def _app_for_token_route(self, request: web.Request) -> Application | None:
        info = request.match_info
        if "interaction_id" in info:
            interaction = self.store.interactions.get(int(info["interaction_id"]))
            if interaction is None:
                return next(iter(self.store.applications.values()), None)
            return self.store.applications.get(interaction.application_id)
        return self.store.applications.get(int(info.get("app_id", "0")))

    async def _rate_limit(self, request: web.Request, template: str) -> Decision:
        info = request.match_info
        major = info.get("channel_id") or info.get("guild_id") or info.get("token") or ""
        renames = False
        if request.method == "PATCH" and template == "/channels/{channel_id}":
            try:
                body = await request.json()
            except ValueError:
                body = {}
            renames = isinstance(body, dict) and ("name" in body or "topic" in body)
        return self.ratelimits.check(
            request.method,
            template,
            major,
            counts_globally=not template.startswith(_TOKEN_ROUTES),
            renames=renames,
        )


def _too_many(decision: Decision) -> web.Response:
    headers = {
        **decision.headers,
        "Via": "1.1 google",
        "Retry-After": str(int(decision.retry_after) + 1),
    }
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(decision.retry_after, 3),
        "global": decision.is_global,
        "code": 0,
    }
    return json_response(body, status=429, headers=headers)


def _fault_response(fault: HTTPFault, method: str, template: str) -> web.Response:
    status = fault.status or 500
    if status == 429:
        headers = {"X-RateLimit-Scope": "global" if fault.is_global else "user"}
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            # What Discord sends with a bucket's 429: the bucket, exhausted until retry_after.
            headers.update(
                rate_limit_headers(1, 0, fault.retry_after, bucket_hash(method, template))
            )
        return _too_many(
            Decision(
                headers=headers,
                limited=True,
                retry_after=fault.retry_after,
                is_global=fault.is_global,
            )
        )
    message = fault.message or f"{status}: injected by discord_twin"
    return json_response({"message": message, "code": 0}, status=status)
