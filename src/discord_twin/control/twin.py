"""The in-process control API: start a twin, seed it, read state, wait, inject faults.

A test holds one `Twin`. Writes made through it (a user posting, clicking, running a command)
go through the same `Ops` as the bot's REST calls, so they dispatch the same gateway events.
Acting as a user is `Actor` (actor.py); an interaction in flight is `InteractionHandle`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..events import Event
from ..ops import UPLOAD_LIMIT
from ..render import render_channel
from ..server import Core, RequestRecord
from ..state import (
    GUILD_CATEGORY,
    GUILD_TEXT,
    Application,
    Channel,
    Command,
    Guild,
    Member,
    Message,
    MessageWrite,
    Role,
    TypingEvent,
    User,
)
from .actor import Actor
from .admin import AdminControls
from .faults import FaultControls


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(slots=True)
class Seed:
    """What `seed_default` creates: enough for a bot to log in and talk in one channel."""

    guild: Guild
    owner: User
    bot: User
    app: Application
    channel: Channel

    @property
    def token(self) -> str:
        return self.app.token


class Twin(AdminControls, FaultControls, Core):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: str = "generous",
        heartbeat_interval_ms: int = 41_250,
        upload_limit: int = UPLOAD_LIMIT,
        control_api: bool = True,
    ) -> None:
        """`upload_limit`: bytes of files per message before 413 / 40005 (`ops.upload_limit`).

        `control_api=False` leaves out the HTTP control API (`/_twin/…` but the web client's
        own routes): it lets any local caller act as anyone, with no password, so a twin a
        person uses (`kimaki demo`) must not offer it to the web pages they visit.
        """
        super().__init__(rate_limits=rate_limits, heartbeat_interval_ms=heartbeat_interval_ms)
        self.ops.upload_limit = upload_limit
        self.control_api = control_api
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self.seed: Seed | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self) -> Twin:
        from ..viewer import add_viewer_routes
        from .http import ControlHttp

        app = self.make_app()
        if self.control_api:
            ControlHttp(self).add_routes(app.router)
        add_viewer_routes(app.router, self)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        if not self.port:
            self.port = free_port(self.host)
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.gateway.url = self.gateway_url
        self.ops.base_url = self.url
        return self

    async def stop(self) -> None:
        self.gateway.release()
        for hold in self.faults.holds:
            hold.release()  # a held request would keep the server from shutting down
        for conn in list(self.gateway.connections):
            conn.close(1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Twin:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What discord.py's `Route.BASE` (and KIMAKI_DISCORD_API_URL) must be."""
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    # ---- seeding --------------------------------------------------------------------------
    def seed_default(
        self,
        *,
        guild_name: str = "Twin Guild",
        owner_name: str = "owner",
        bot_name: str = "kimaki",
        channel_name: str = "general",
    ) -> Seed:
        owner = self.create_user(owner_name)
        app = self.create_bot(bot_name, owner=owner)
        guild = self.create_guild(guild_name, owner=owner)
        admin = self.create_role(guild, "bot-admin", permissions=0x8)
        bot = self.store.users[app.bot_user_id]
        self.add_member(guild, bot, roles=[admin])
        channel = self.create_channel(guild, channel_name)
        self.seed = Seed(guild=guild, owner=owner, bot=bot, app=app, channel=channel)
        return self.seed

    def create_user(
        self, username: str, *, global_name: str | None = None, bot: bool = False
    ) -> User:
        return self.store.add_user(username, global_name=global_name, bot=bot)

    def create_bot(self, username: str, *, owner: User, name: str | None = None) -> Application:
        bot = self.store.add_user(username, bot=True)
        return self.store.add_application(bot, owner, name=name)

    def create_guild(self, name: str, *, owner: User) -> Guild:
        return self.store.add_guild(name, owner)

    def create_role(self, guild: Guild, name: str, *, permissions: int = 0) -> Role:
        return self.ops.add_role(guild, name, permissions)

    def add_member(self, guild: Guild, user: User, *, roles: Iterable[Role] = ()) -> Member:
        return self.ops.add_member(guild, user, [r.id for r in roles])

    def set_roles(self, guild: Guild, user: User, roles: Iterable[Role]) -> Member:
        return self.ops.set_member_roles(guild, guild.members[user.id], [r.id for r in roles])

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = GUILD_TEXT,
        parent: Channel | None = None,
        topic: str | None = None,
    ) -> Channel:
        return self.ops.create_channel(
            guild, name, type=type, parent_id=parent.id if parent else None, topic=topic
        )

    def create_category(self, guild: Guild, name: str) -> Channel:
        return self.create_channel(guild, name, type=GUILD_CATEGORY)

    def user(self, user: User) -> Actor:
        return Actor(self, user)

    # ---- reading --------------------------------------------------------------------------
    def channel(self, channel_id: int) -> Channel:
        return self.ops.channel(channel_id)

    def channels(self, guild: Guild | None = None) -> list[Channel]:
        guild = guild or self._default_guild()
        return sorted(self.store.guild_channels(guild.id), key=lambda c: (c.position, c.id))

    def channel_named(self, name: str, guild: Guild | None = None) -> Channel | None:
        return next((c for c in self.channels(guild) if c.name == name), None)

    def threads(self, parent: Channel | None = None) -> list[Channel]:
        if parent is not None:
            return sorted(self.store.threads(parent_id=parent.id), key=lambda t: t.id)
        return sorted(self.store.threads(), key=lambda t: t.id)

    def messages(self, channel: Channel, *, include_ephemeral: bool = True) -> list[Message]:
        """Live messages oldest first."""
        return [
            m
            for m in self.store.live_messages(channel.id)
            if include_ephemeral or m.ephemeral_for is None
        ]

    def typing_events(self, channel: Channel | None = None) -> list[TypingEvent]:
        return [t for t in self.store.typing if channel is None or t.channel_id == channel.id]

    def commands(self, guild: Guild | None = None, app: Application | None = None) -> list[Command]:
        """Registered commands: global ones when `guild` is None."""
        app = app or self._default_app()
        return self.ops.commands(app.id, guild.id if guild else None)

    def unknown_requests(self) -> list[RequestRecord]:
        """REST calls to routes the twin lacks: a test can assert this is empty."""
        return [r for r in self.requests if r.unknown]

    def requests_to(self, method: str, route: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method and r.route == route]

    def call_times(self, method: str, route: str) -> list[float]:
        """`time.monotonic()` arrival times of the calls to one route (e.g. to measure spacing)."""
        return [r.monotonic for r in self.requests_to(method, route)]

    def message_writes(
        self, channel: Channel | None = None, *, author: User | None = None, since: int = 0
    ) -> list[MessageWrite]:
        """Every post and edit in order, each as it was then (count posts against edits, see
        which notified). Threads started from a message are not edits."""
        writes = [e.data for e in self.events.since(since, ("message_create", "message_update"))]
        return [
            w
            for w in writes
            if isinstance(w, MessageWrite)
            and (channel is None or w.channel_id == channel.id)
            and (author is None or w.author_id == author.id)
        ]

    def render(self, channel: Channel) -> str:
        return render_channel(self.store, channel)

    # ---- waiting --------------------------------------------------------------------------
    def cursor(self) -> int:
        return self.events.cursor()

    async def wait_for_event(
        self,
        kinds: Iterable[str],
        predicate: Callable[[Any], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 30.0,
    ) -> Event:
        return await self.events.wait_for(kinds, predicate, since=since, timeout=timeout)

    async def wait_for_message(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        channel: Channel | None = None,
        author: User | None = None,
        since: int = 0,
        timeout: float = 30.0,
        edits: bool = False,
    ) -> Message:
        """First message (created, or also edited with `edits`) from `since` that matches."""

        def match(message: Message) -> bool:
            return (
                not message.deleted
                and (channel is None or message.channel_id == channel.id)
                and (author is None or message.author_id == author.id)
                and (predicate is None or predicate(message))
            )

        kinds = ("message_create", "message_update") if edits else ("message_create",)
        event = await self.events.wait_for(kinds, match, since=since, timeout=timeout)
        message: Message = event.subject
        return message

    async def wait_for_thread(
        self,
        predicate: Callable[[Channel], bool] | None = None,
        *,
        parent: Channel | None = None,
        since: int = 0,
        timeout: float = 30.0,
        updates: bool = False,
    ) -> Channel:
        def match(thread: Channel) -> bool:
            return (parent is None or thread.parent_id == parent.id) and (
                predicate is None or predicate(thread)
            )

        kinds = ("thread_create", "thread_update") if updates else ("thread_create",)
        event = await self.events.wait_for(kinds, match, since=since, timeout=timeout)
        thread: Channel = event.subject
        return thread

    async def wait_for_typing(
        self,
        predicate: Callable[[TypingEvent], bool] | None = None,
        *,
        channel: Channel | None = None,
        since: int = 0,
        timeout: float = 30.0,
    ) -> TypingEvent:
        def match(event: TypingEvent) -> bool:
            return (channel is None or event.channel_id == channel.id) and (
                predicate is None or predicate(event)
            )

        event = await self.events.wait_for(("typing",), match, since=since, timeout=timeout)
        typing: TypingEvent = event.subject
        return typing

    # ---- internals ------------------------------------------------------------------------
    def _default_guild(self) -> Guild:
        if self.seed is not None:
            return self.seed.guild
        return next(iter(self.store.guilds.values()))

    def _default_app(self) -> Application:
        if self.seed is not None:
            return self.seed.app
        return next(iter(self.store.applications.values()))
