"""The in-process control API: start a twin, seed it, act as users, read state, wait, render.

A test holds one `Twin`. Writes made through it (a user posting, clicking, running a command)
go through the same `Ops` as the bot's REST calls, so they dispatch the same gateway events.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .components import BUTTON, find_component, modal_submission
from .errors import TwinError
from .events import Event
from .faults import HTTPFault
from .ops import NewFile
from .render import render_channel
from .server import Core, RequestRecord
from .state import (
    GUILD_CATEGORY,
    GUILD_TEXT,
    PUBLIC_THREAD,
    Application,
    Channel,
    Command,
    Guild,
    Interaction,
    Member,
    Message,
    Role,
    TypingEvent,
    User,
)

# Application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, USER, CHANNEL, ROLE, MENTIONABLE = 1, 2, 6, 7, 8, 9


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def mention(user: User) -> str:
    return f"<@{user.id}>"


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


class Twin(Core):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: str = "generous",
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        super().__init__(rate_limits=rate_limits, heartbeat_interval_ms=heartbeat_interval_ms)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self.seed: Seed | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self) -> Twin:
        from .control_http import ControlHttp
        from .viewer import add_viewer_routes

        app = self.make_app()
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
        timeout: float = 5.0,
    ) -> Event:
        return await self.events.wait_for(kinds, predicate, since=since, timeout=timeout)

    async def wait_for_message(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        channel: Channel | None = None,
        author: User | None = None,
        since: int = 0,
        timeout: float = 5.0,
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
        timeout: float = 5.0,
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
        timeout: float = 5.0,
    ) -> TypingEvent:
        def match(event: TypingEvent) -> bool:
            return (channel is None or event.channel_id == channel.id) and (
                predicate is None or predicate(event)
            )

        event = await self.events.wait_for(("typing",), match, since=since, timeout=timeout)
        typing: TypingEvent = event.subject
        return typing

    # ---- limits and faults ----------------------------------------------------------------
    def set_rate_limits(self, profile: str) -> None:
        self.ratelimits.set_profile(profile)

    def add_http_fault(
        self,
        method: str,
        path: str,
        status: int | None = 500,
        *,
        count: int | None = 1,
        probability: float = 1.0,
        retry_after: float = 0.0,
        delay: float = 0.0,
        is_global: bool = False,
    ) -> HTTPFault:
        """E.g. `add_http_fault("POST", "/channels/*/messages", 429, retry_after=0.1)`."""
        return self.faults.add(
            HTTPFault(
                method=method,
                path=path,
                status=status,
                count=count,
                probability=probability,
                retry_after=retry_after,
                delay=delay,
                is_global=is_global,
            )
        )

    # ---- internals ------------------------------------------------------------------------
    def _default_guild(self) -> Guild:
        if self.seed is not None:
            return self.seed.guild
        return next(iter(self.store.guilds.values()))

    def _default_app(self) -> Application:
        if self.seed is not None:
            return self.seed.app
        return next(iter(self.store.applications.values()))


class Actor:
    """A human user acting in the twin (what a test does instead of clicking in Discord)."""

    def __init__(self, twin: Twin, user: User) -> None:
        self.twin = twin
        self.user = user

    def send(
        self,
        channel: Channel,
        content: str = "",
        *,
        reply_to: Message | None = None,
        mentions: Iterable[User] = (),
        embeds: list[dict[str, Any]] | None = None,
        files: dict[str, bytes] | None = None,
        nonce: str | None = None,
    ) -> Message:
        """Post as this user; `mentions` are prepended as `<@id>` like a client would."""
        prefix = " ".join(mention(u) for u in mentions)
        text = f"{prefix} {content}".strip() if prefix else content
        message, _ = self.twin.ops.post_message(
            channel,
            self.user.id,
            content=text,
            embeds=embeds,
            files=[NewFile(name, data) for name, data in (files or {}).items()],
            nonce=nonce,
            message_reference={"message_id": reply_to.id} if reply_to else None,
        )
        return message

    def edit(self, message: Message, content: str) -> Message:
        return self.twin.ops.edit_message(message, {"content": content})

    def delete(self, message: Message) -> None:
        self.twin.ops.delete_message(message)

    def react(self, message: Message, emoji: str) -> None:
        self.twin.ops.react(message, emoji, self.user.id)

    def typing(self, channel: Channel) -> TypingEvent:
        return self.twin.ops.typing(channel, self.user.id)

    def create_thread(
        self, channel: Channel, name: str, *, from_message: Message | None = None
    ) -> Channel:
        return self.twin.ops.create_thread(
            channel, name, self.user.id, type=PUBLIC_THREAD, from_message=from_message
        )

    # ---- interactions ---------------------------------------------------------------------
    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        app: Application | None = None,
    ) -> InteractionHandle:
        """Run `/name` (or `"group sub"` for subcommands) with option values by name."""
        channel, app, command = self._command(name, channel, app)
        data = self._command_data(command, name, options or {}, channel)
        return self._interact(app, 2, channel, data)

    def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        channel: Channel | None = None,
        app: Application | None = None,
    ) -> InteractionHandle:
        """Type 4: the user is typing option `focused`; the bot answers with choices."""
        channel, app, command = self._command(name, channel, app)
        data = self._command_data(command, name, options, channel, focused=focused)
        return self._interact(app, 4, channel, data)

    def click(self, message: Message, custom_id: str) -> InteractionHandle:
        component = self._component(message, custom_id)
        if component.get("type") != BUTTON:
            raise ValueError(f"{custom_id!r} is not a button")
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return self._component_interaction(message, data)

    def select(self, message: Message, custom_id: str, values: list[str]) -> InteractionHandle:
        component = self._component(message, custom_id)
        data = {"custom_id": custom_id, "component_type": component["type"], "values": values}
        return self._component_interaction(message, data)

    def submit_modal(
        self, opened_by: InteractionHandle, values: dict[str, str | list[str]]
    ) -> InteractionHandle:
        """Fill and submit the modal that `opened_by` answered with (callback type 9)."""
        modal = opened_by.modal
        if modal is None:
            raise ValueError("that interaction was not answered with a modal")
        source = opened_by.interaction
        channel = self.twin.channel(source.channel_id)
        data = {
            "custom_id": modal["custom_id"],
            "components": modal_submission(modal.get("components") or [], values),
        }
        message = self.twin.store.messages.get(source.message_id) if source.message_id else None
        app = self.twin.store.applications[source.application_id]
        return self._interact(app, 5, channel, data, message=message)

    def _component(self, message: Message, custom_id: str) -> dict[str, Any]:
        component = find_component(message.components, custom_id)
        if component is None:
            raise ValueError(f"message {message.id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        return component

    def _component_interaction(self, message: Message, data: dict[str, Any]) -> InteractionHandle:
        app_id = message.application_id or message.author_id
        app = self.twin.store.applications.get(app_id) or self.twin._default_app()
        channel = self.twin.channel(message.channel_id)
        return self._interact(app, 3, channel, data, message=message)

    def _interact(
        self,
        app: Application,
        type: int,
        channel: Channel,
        data: dict[str, Any],
        *,
        message: Message | None = None,
    ) -> InteractionHandle:
        interaction = self.twin.ops.create_interaction(
            app.id, type, self.user.id, channel, data, message=message
        )
        return InteractionHandle(self.twin, interaction)

    def _command(
        self, name: str, channel: Channel | None, app: Application | None
    ) -> tuple[Channel, Application, Command]:
        channel = channel or (self.twin.seed.channel if self.twin.seed else None)
        if channel is None:
            raise ValueError("no channel given and no default seed")
        app = app or self.twin._default_app()
        root = name.split()[0]
        scopes = [channel.guild_id, None] if channel.guild_id else [None]
        for guild_id in scopes:
            for command in self.twin.ops.commands(app.id, guild_id):
                if command.name == root and command.type == 1:
                    return channel, app, command
        raise TwinError(404, 10063, f"Unknown application command /{root}")

    def _command_data(
        self,
        command: Command,
        name: str,
        values: dict[str, Any],
        channel: Channel,
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        resolved: dict[str, dict[str, Any]] = {}
        declared = command.options
        path = name.split()[1:]
        nested: list[dict[str, Any]] = []
        container = nested
        for part in path:
            spec = next((o for o in declared if o.get("name") == part), None)
            if spec is None:
                raise ValueError(f"/{command.name} has no subcommand {part!r}")
            entry: dict[str, Any] = {"name": part, "type": spec["type"], "options": []}
            container.append(entry)
            container = entry["options"]
            declared = spec.get("options") or []
        for opt_name, value in values.items():
            spec = next((o for o in declared if o.get("name") == opt_name), None)
            if spec is None:
                raise ValueError(f"/{name} has no option {opt_name!r}")
            container.append(self._option(spec, value, resolved, channel, opt_name == focused))
        data: dict[str, Any] = {
            "id": str(command.id),
            "name": command.name,
            "type": command.type,
            "options": nested,
        }
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        if resolved:
            data["resolved"] = resolved
        return data

    def _option(
        self,
        spec: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        channel: Channel,
        focused: bool,
    ) -> dict[str, Any]:
        from .payloads import channel_payload, member_payload, role_payload, user_payload

        otype = int(spec["type"])
        store = self.twin.store
        guild = store.guilds.get(channel.guild_id) if channel.guild_id else None
        if otype in (USER, CHANNEL, ROLE, MENTIONABLE) and hasattr(value, "id"):
            value = value.id
        if otype in (USER, MENTIONABLE) and int(value) in store.users:
            user = store.users[int(value)]
            resolved.setdefault("users", {})[str(user.id)] = dict(user_payload(user))
            if guild is not None and user.id in guild.members:
                member = {
                    k: v
                    for k, v in member_payload(
                        store, guild.members[user.id], with_permissions=True
                    ).items()
                    if k != "user"
                }
                resolved.setdefault("members", {})[str(user.id)] = member
        elif otype == CHANNEL and int(value) in store.channels:
            resolved.setdefault("channels", {})[str(value)] = {
                **channel_payload(store.channels[int(value)]),
                "permissions": str((1 << 53) - 1),
            }
        elif otype == ROLE and guild is not None and int(value) in guild.roles:
            resolved.setdefault("roles", {})[str(value)] = dict(
                role_payload(guild.roles[int(value)])
            )
        option: dict[str, Any] = {"name": spec["name"], "type": otype}
        option["value"] = str(value) if otype in (USER, CHANNEL, ROLE, MENTIONABLE) else value
        if focused:
            option["focused"] = True
        return option


class InteractionHandle:
    """A user's interaction in flight: wait for the bot's answer, read what it produced."""

    def __init__(self, twin: Twin, interaction: Interaction) -> None:
        self.twin = twin
        self.interaction = interaction

    @property
    def responded(self) -> bool:
        return self.interaction.response_type is not None

    @property
    def response_type(self) -> int | None:
        return self.interaction.response_type

    @property
    def modal(self) -> dict[str, Any] | None:
        if self.interaction.response_type == 9:
            return self.interaction.response_data
        return None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        if self.interaction.response_type == 8 and self.interaction.response_data is not None:
            choices: list[dict[str, Any]] = self.interaction.response_data.get("choices") or []
            return choices
        return None

    def message(self) -> Message | None:
        """The original response message (or the component message a type 7 updated)."""
        mid = self.interaction.original_message_id
        return self.twin.store.messages.get(mid) if mid is not None else None

    def followups(self) -> list[Message]:
        return [self.twin.store.messages[m] for m in self.interaction.followup_ids]

    async def wait_response(self, timeout: float = 5.0) -> InteractionHandle:
        await self.twin.events.wait_for(
            ("interaction_response",), lambda i: i is self.interaction, timeout=timeout
        )
        return self

    async def wait_message(
        self, predicate: Callable[[Message], bool] | None = None, *, timeout: float = 5.0
    ) -> Message:
        """The original response once it satisfies `predicate` (e.g. a deferred one edited)."""

        def match(message: Message) -> bool:
            return message.id == self.interaction.original_message_id and (
                predicate is None or predicate(message)
            )

        await self.wait_response(timeout)
        event = await self.twin.events.wait_for(
            ("message_create", "message_update"), match, timeout=timeout
        )
        message: Message = event.subject
        return message

    async def wait_followup(
        self, predicate: Callable[[Message], bool] | None = None, *, timeout: float = 5.0
    ) -> Message:
        def match(subject: tuple[Interaction, Message]) -> bool:
            interaction, message = subject
            return interaction is self.interaction and (predicate is None or predicate(message))

        event = await self.twin.events.wait_for(("interaction_followup",), match, timeout=timeout)
        message: Message = event.subject[1]
        return message
