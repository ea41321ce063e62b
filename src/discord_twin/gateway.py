"""The Gateway: HELLO, heartbeats, IDENTIFY/READY, RESUME with replay, and gateway faults.

Frames are sent as text JSON (discord.py only inflates binary frames, so `compress` is ignored).
Every dispatch goes into the session's buffer first, so a RESUME can replay what a dropped
connection missed, exactly as Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .events import EventLog
from .guild_payloads import guild_create_payload
from .payloads import member_payload, user_payload
from .state import Application, Message, Store

# Opcodes
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

# Intents
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15

# Close codes
RATE_LIMITED = 4008
AUTHENTICATION_FAILED = 4004
SEND_LIMIT = 120  # frames a client may send per 60 s
DISALLOWED_INTENTS = 4014

_BLANKED_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


@dataclass(eq=False)
class Connection:
    """One live websocket; frames go through a queue so dispatch order is send order."""

    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | int] = field(default_factory=asyncio.Queue)
    session: GatewaySession | None = None
    received: deque[float] = field(default_factory=deque)

    def over_send_limit(self, now: float) -> bool:
        """Discord closes with 4008 past 120 client frames in 60 s."""
        self.received.append(now)
        while self.received and now - self.received[0] > 60.0:
            self.received.popleft()
        return len(self.received) > SEND_LIMIT

    def send(self, frame: dict[str, Any]) -> None:
        self.queue.put_nowait(json.dumps(frame))

    def close(self, code: int) -> None:
        self.queue.put_nowait(code)


@dataclass(eq=False)
class GatewaySession:
    id: str
    app: Application
    intents: int
    seq: int = 0
    buffer: deque[tuple[int, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=2000))
    connection: Connection | None = None

    def push(self, name: str, data: Any) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": name, "s": self.seq, "d": data}
        self.buffer.append((self.seq, frame))
        if self.connection is not None:
            self.connection.send(frame)


class GatewayHub:
    def __init__(self, store: Store, events: EventLog, *, heartbeat_interval_ms: int = 41_250):
        self.store = store
        self.events = events
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.url = "ws://127.0.0.1/gateway"
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[Connection] = set()
        self.heartbeats = 0
        self.mute_heartbeat_acks = False
        self._released = asyncio.Event()
        self._released.set()

    # ---- dispatch -------------------------------------------------------------------------
    def dispatch(
        self,
        name: str,
        data: Any,
        *,
        guild_id: int | None = None,
        intent: int | None = None,
        message: Message | None = None,
        app_id: int | None = None,
        exclude_app_id: int | None = None,
    ) -> None:
        """Send an event to every session that may see it (guild membership, intents, app)."""
        for session in list(self.sessions.values()):
            if app_id is not None and session.app.id != app_id:
                continue
            if exclude_app_id is not None and session.app.id == exclude_app_id:
                continue
            if intent is not None and not session.intents & intent:
                continue
            if guild_id is not None:
                guild = self.store.guilds.get(guild_id)
                if guild is None or session.app.bot_user_id not in guild.members:
                    continue
            payload = data
            if message is not None and self._must_blank(session, message):
                payload = {**data, **_BLANKED_FIELDS}
            session.push(name, payload)

    def _must_blank(self, session: GatewaySession, message: Message) -> bool:
        """Without MESSAGE_CONTENT, others' guild messages arrive empty unless they mention us."""
        bot_id = session.app.bot_user_id
        return (
            not session.intents & MESSAGE_CONTENT
            and message.guild_id is not None
            and message.author_id != bot_id
            and bot_id not in message.mentions
        )

    # ---- faults ---------------------------------------------------------------------------
    def close_connections(self, code: int = 4000, *, hold: bool = False) -> int:
        """Drop every live connection; with `hold`, new ones wait for `release()` before HELLO."""
        if hold:
            self._released.clear()
        for conn in list(self.connections):
            conn.close(code)
        return len(self.connections)

    def release(self) -> None:
        self._released.set()

    def end_app_sessions(self, app_id: int, code: int) -> int:
        """Close one application's connections with `code` and forget its sessions (no resume)."""
        closed = 0
        for session in [s for s in self.sessions.values() if s.app.id == app_id]:
            self.sessions.pop(session.id, None)
            if session.connection is not None:
                session.connection.close(code)
                closed += 1
        return closed

    @property
    def held(self) -> bool:
        return not self._released.is_set()

    def send_reconnect(self) -> None:
        """Op 7: the client closes and resumes."""
        for conn in list(self.connections):
            conn.send({"op": RECONNECT, "d": None})

    def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Op 9; a non-resumable invalidation also forgets the sessions, like Discord."""
        for conn in list(self.connections):
            conn.send({"op": INVALID_SESSION, "d": resumable})
            if not resumable and conn.session is not None:
                self.sessions.pop(conn.session.id, None)

    @property
    def connected_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connection is not None]

    # ---- websocket ------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws)
        self.connections.add(conn)
        writer = asyncio.get_running_loop().create_task(self._writer(conn))
        try:
            await self._released.wait()
            conn.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                if conn.over_send_limit(asyncio.get_running_loop().time()):
                    conn.close(RATE_LIMITED)
                    continue
                await self._on_frame(conn, json.loads(msg.data))
        finally:
            self.connections.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
                self.events.append("gateway_disconnect", {"session_id": conn.session.id})
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            if not ws.closed:
                await ws.close()
        return ws

    async def _writer(self, conn: Connection) -> None:
        while True:
            item = await conn.queue.get()
            if isinstance(item, int):
                await conn.ws.close(code=item)
                return
            if conn.ws.closed:
                return
            try:
                await conn.ws.send_str(item)
            except (ConnectionResetError, RuntimeError):
                return

    async def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            if not self.mute_heartbeat_acks:
                conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            self._identify(conn, data or {})
        elif op == RESUME:
            self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            self._members_chunk(conn, data or {})

    def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        token = str(data.get("token", "")).removeprefix("Bot ")
        app = self.store.application_for_token(token)
        if app is None:
            conn.close(AUTHENTICATION_FAILED)
            return
        intents = int(data.get("intents", 0))
        if not _privileged_allowed(app, intents):
            conn.close(DISALLOWED_INTENTS)
            return
        session = GatewaySession(id=secrets.token_hex(16), app=app, intents=intents)
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        bot = self.store.users[app.bot_user_id]
        guilds = [g for g in self.store.guilds.values() if bot.id in g.members]
        session.push(
            "READY",
            {
                "v": 10,
                "user": {**user_payload(bot), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.url,
                "application": {"id": str(app.id), "flags": app.flags},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "_trace": ["discord-twin"],
            },
        )
        if intents & GUILDS:
            for guild in guilds:
                session.push(
                    "GUILD_CREATE", guild_create_payload(self.store, guild, viewer_id=bot.id)
                )
        self.events.append("gateway_identify", {"session_id": session.id, "intents": intents})

    def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        token = str(data.get("token", "")).removeprefix("Bot ")
        if session is None or session.app.token != token:
            conn.send({"op": INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn:
            old.close(4000)
        session.connection = conn
        conn.session = session
        last_seen = int(data.get("seq") or 0)
        replayed = 0
        for seq, frame in list(session.buffer):
            if seq > last_seen:
                conn.send(frame)
                replayed += 1
        session.push("RESUMED", {"_trace": ["discord-twin"]})
        self.events.append("gateway_resume", {"session_id": session.id, "replayed": replayed})

    def _members_chunk(self, conn: Connection, data: dict[str, Any]) -> None:
        guild = self.store.guilds.get(int(data.get("guild_id", 0)))
        if guild is None or conn.session is None:
            return
        conn.session.push(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild.id),
                "members": [member_payload(self.store, m) for m in guild.members.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
                "nonce": data.get("nonce"),
            },
        )


def _privileged_allowed(app: Application, intents: int) -> bool:
    """A privileged intent the app was not granted closes the connection with 4014."""
    return not (
        (intents & MESSAGE_CONTENT and not app.message_content)
        or (intents & GUILD_MEMBERS and not app.guild_members)
        or (intents & GUILD_PRESENCES and not app.presences)
    )
