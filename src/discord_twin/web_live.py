"""Live updates for the web client: the twin's event log pushed over a WebSocket.

The page loads a snapshot (`/_twin/web/state`, which carries the log's cursor), then opens
`/_twin/web/live?since=CURSOR`. Each batch carries the new cursor, so a page that reconnects
asks for exactly what it missed. Frames hold the *current* state of what changed (a message
is sent whole, as it is now), so applying one twice, or late, is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from aiohttp import WSCloseCode, web

from .events import Event
from .payloads import channel_payload, role_payload, user_payload
from .state import Message
from .web_api import PREFIX, WebApi, check_local

log = logging.getLogger(__name__)

LIVE_KINDS = (
    "message_create",
    "message_update",
    "message_delete",
    "channel_create",
    "channel_update",
    "channel_delete",
    "thread_create",
    "thread_update",
    "thread_delete",
    "typing",
    "reaction_add",
    "reaction_remove",
    "commands_update",
    "member_add",
    "member_update",
    "role_create",
)
IDLE_WAIT_S = 30.0

# Open pages per application, closed by `close_pages` when the twin stops (an open socket would
# otherwise hold aiohttp's shutdown for its whole grace period).
_pages: weakref.WeakKeyDictionary[web.WebSocketResponse, web.Application] = (
    weakref.WeakKeyDictionary()
)


async def close_pages(app: web.Application) -> None:
    """`on_shutdown` hook: tell every open page the twin is going away."""
    for ws, owner in list(_pages.items()):
        if owner is app and not ws.closed:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"twin stopping")


class LiveFeed:
    def __init__(self, api: WebApi) -> None:
        self.api = api

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(PREFIX + "/live", self.handle)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        check_local(request, writes=True)  # a WebSocket is not bound by CORS: check its Origin
        try:
            since = int(request.query.get("since", "0"))
        except ValueError as exc:
            raise web.HTTPBadRequest(text="since must be a log cursor") from exc
        ws = web.WebSocketResponse(heartbeat=20.0, timeout=2.0)
        await ws.prepare(request)
        _pages[ws] = request.app
        pusher = asyncio.get_running_loop().create_task(self._push(ws, since))
        try:
            async for _message in ws:
                pass  # the page only listens; its actions are plain HTTP calls
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
            _pages.pop(ws, None)
        return ws

    async def _push(self, ws: web.WebSocketResponse, cursor: int) -> None:
        events = self.api.twin.events
        cursor = max(0, min(cursor, events.cursor()))
        while not ws.closed:
            new = events.since(cursor)
            if not new:
                with contextlib.suppress(TimeoutError):
                    await events.wait_for(LIVE_KINDS, since=cursor, timeout=IDLE_WAIT_S)
                continue
            cursor += len(new)
            frames = [f for f in (self._safe_frame(e) for e in new) if f is not None]
            if frames:
                try:
                    await ws.send_json({"cursor": cursor, "frames": frames})
                except ConnectionError:
                    return

    def _safe_frame(self, event: Event) -> dict[str, Any] | None:
        """One bad event costs its own frame, never the page's feed."""
        try:
            return self.frame(event)
        except Exception:
            log.exception(
                "web client: could not turn %s event %d into a frame", event.kind, event.index
            )
            return None

    def frame(self, event: Event) -> dict[str, Any] | None:
        """What the page needs to know about one log event (None: nothing it shows)."""
        kind, subject = event.kind, event.subject
        if kind in ("message_create", "message_update", "message_delete"):
            return self._message_frame(subject)
        if kind in ("reaction_add", "reaction_remove"):
            return self._message_frame(subject[0])
        if kind in ("channel_create", "channel_update", "thread_create", "thread_update"):
            return {"t": "channel", "channel": channel_payload(subject)}
        if kind in ("channel_delete", "thread_delete"):
            return {"t": "channel_delete", "id": str(subject.id)}
        if kind == "typing":
            user = self.api.twin.store.users.get(subject.user_id)
            return {
                "t": "typing",
                "channel_id": str(subject.channel_id),
                "user": user_payload(user) if user else None,
                "at": subject.at,
            }
        if kind == "commands_update":
            return {"t": "commands", "commands": self.api.commands_json()}
        if kind in ("member_add", "member_update"):
            return {"t": "user", "user": user_payload(self.api.twin.store.users[subject.user_id])}
        if kind == "role_create":
            return {"t": "role", "role": role_payload(subject)}
        return None

    def _message_frame(self, message: Message) -> dict[str, Any] | None:
        if not self.api.visible(message):
            return None
        if message.deleted:
            return {
                "t": "message_delete",
                "id": str(message.id),
                "channel_id": str(message.channel_id),
            }
        return {"t": "message", "message": self.api.message_json(message)}
