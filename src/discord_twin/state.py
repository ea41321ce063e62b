"""In-memory state of the twin: snowflakes, models and the store.

State objects are plain dataclasses; turning them into Discord payloads is `payloads.py`'s job,
so the store never has to care about wire formats.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})

# Permission bits that matter to bots like kimaki.
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ALL_PERMISSIONS = (1 << 53) - 1
DEFAULT_EVERYONE_PERMISSIONS = 0x0000_0006_3FF7_FE41  # roughly Discord's default @everyone set

# Message flags
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15


def iso(ts: float) -> str:
    """Discord-style ISO 8601 timestamp with microseconds and +00:00."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


class Snowflakes:
    """Monotonic snowflake ids whose timestamps are the real clock (discord.py reads them)."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000)
        if now_ms <= self._last_ms:
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms += 1
                self._increment = 0
        else:
            self._last_ms = now_ms
            self._increment = 0
        return ((self._last_ms - DISCORD_EPOCH_MS) << 22) | (self._worker << 17) | self._increment


@dataclass(slots=True)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    premium: bool = False
    """Nitro: messages of up to 4,000 characters (bots and other users: 2,000)."""

    @property
    def display_name(self) -> str:
        return self.global_name or self.username


@dataclass(slots=True)
class Application:
    id: int
    name: str
    bot_user_id: int
    owner_id: int
    token: str
    # Privileged intents the app is allowed to request (Discord's developer-portal switches).
    message_content: bool = True
    guild_members: bool = True
    presences: bool = True
    bot_public: bool = True
    """Whether anyone may invite the bot (the portal's "Public Bot" switch)."""
    team_member_ids: list[int] = field(default_factory=list)
    """When set, the application belongs to a team with these members (owner first)."""

    @property
    def flags(self) -> int:
        flags = 0
        if self.presences:
            flags |= 1 << 12
        if self.guild_members:
            flags |= 1 << 14
        if self.message_content:
            flags |= 1 << 18
        return flags


@dataclass(slots=True)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False


@dataclass(slots=True)
class Member:
    guild_id: int
    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: float = field(default_factory=time.time)


@dataclass(slots=True)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)


@dataclass(slots=True)
class Channel:
    """A guild channel, a category, or a thread (threads carry parent_id and metadata)."""

    id: int
    type: int
    name: str
    guild_id: int | None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    last_message_id: int | None = None
    # Thread-only fields.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: float = field(default_factory=time.time)
    message_count: int = 0
    total_message_sent: int = 0
    thread_members: set[int] = field(default_factory=set)
    created_at: float = field(default_factory=time.time)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass(slots=True)
class Attachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(slots=True)
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    type: int = 0
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    nonce: str | int | None = None
    tts: bool = False
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: dict[str, Any] | None = None
    reference_message_id: int | None = None
    reference_channel_id: int | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    pinned: bool = False
    reactions: dict[str, set[int]] = field(default_factory=dict)
    thread_id: int | None = None
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    deleted: bool = False
    # Ephemeral messages are visible to one user only and never reach the gateway.
    ephemeral_for: int | None = None


@dataclass(slots=True, frozen=True)
class MessageWrite:
    """A post or an edit as it was at that moment (the Message itself keeps changing)."""

    kind: str  # "create" or "edit"
    message_id: int
    channel_id: int
    author_id: int
    content: str
    flags: int
    at: float = field(default_factory=time.time)
    monotonic: float = field(default_factory=time.monotonic)

    @property
    def notifies(self) -> bool:
        """Whether Discord would notify for it: a new message without SUPPRESS_NOTIFICATIONS."""
        return self.kind == "create" and not self.flags & SUPPRESS_NOTIFICATIONS

    @classmethod
    def of(cls, kind: str, message: Message) -> MessageWrite:
        return cls(
            kind, message.id, message.channel_id, message.author_id, message.content, message.flags
        )


@dataclass(slots=True)
class Command:
    id: int
    application_id: int
    guild_id: int | None
    name: str
    type: int = 1
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    version: int = 0


@dataclass(slots=True)
class Interaction:
    id: int
    token: str
    type: int
    application_id: int
    user_id: int
    channel_id: int
    guild_id: int | None
    data: dict[str, Any]
    message_id: int | None = None  # the component's message, for type 3
    created_at: float = field(default_factory=time.time)
    response_type: int | None = None
    response_data: dict[str, Any] | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class TypingEvent:
    channel_id: int
    user_id: int
    at: float = field(default_factory=time.time)


class Store:
    """All twin state. Single-threaded (one event loop), so no locking."""

    def __init__(self) -> None:
        self.ids = Snowflakes()
        self.users: dict[int, User] = {}
        self.applications: dict[int, Application] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.commands: dict[int, Command] = {}
        self.interactions: dict[int, Interaction] = {}
        self.typing: list[TypingEvent] = []
        self.attachments: dict[int, Attachment] = {}
        # (author_id, nonce) -> (message_id, created_at) for enforce_nonce.
        self.nonces: dict[tuple[int, str], tuple[int, float]] = {}

    # ---- creation -------------------------------------------------------------------------
    def add_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> User:
        user = User(id=self.ids.next(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_application(
        self, bot_user: User, owner: User, *, name: str | None = None
    ) -> Application:
        token = f"{bot_user.id}.twin.{secrets.token_urlsafe(16)}"
        app = Application(
            id=bot_user.id,  # Discord bots created today share the application's id.
            name=name or bot_user.username,
            bot_user_id=bot_user.id,
            owner_id=owner.id,
            token=token,
        )
        self.applications[app.id] = app
        return app

    def add_guild(self, name: str, owner: User) -> Guild:
        guild = Guild(id=self.ids.next(), name=name, owner_id=owner.id)
        guild.roles[guild.id] = Role(
            id=guild.id,
            guild_id=guild.id,
            name="@everyone",
            permissions=DEFAULT_EVERYONE_PERMISSIONS,
        )
        self.guilds[guild.id] = guild
        self.add_member(guild, owner)
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int = 0, **extra: Any) -> Role:
        role = Role(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=len(guild.roles),
            **extra,
        )
        guild.roles[role.id] = role
        return role

    def add_member(self, guild: Guild, user: User, roles: list[int] | None = None) -> Member:
        member = Member(guild_id=guild.id, user_id=user.id, roles=list(roles or []))
        guild.members[user.id] = member
        return member

    def add_channel(self, channel: Channel) -> Channel:
        self.channels[channel.id] = channel
        self.channel_messages.setdefault(channel.id, [])
        return channel

    def add_message(self, message: Message) -> Message:
        self.messages[message.id] = message
        self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        return message

    # ---- lookups --------------------------------------------------------------------------
    def application_for_token(self, token: str) -> Application | None:
        for app in self.applications.values():
            if app.token == token:
                return app
        return None

    def application_for_bot(self, user_id: int) -> Application | None:
        return next((a for a in self.applications.values() if a.bot_user_id == user_id), None)

    def guild_channels(self, guild_id: int) -> list[Channel]:
        return [c for c in self.channels.values() if c.guild_id == guild_id and not c.is_thread]

    def threads(
        self, *, guild_id: int | None = None, parent_id: int | None = None
    ) -> list[Channel]:
        return [
            c
            for c in self.channels.values()
            if c.is_thread
            and (guild_id is None or c.guild_id == guild_id)
            and (parent_id is None or c.parent_id == parent_id)
        ]

    def live_messages(self, channel_id: int) -> list[Message]:
        """Messages of a channel, oldest first, without deleted ones."""
        ids = self.channel_messages.get(channel_id, [])
        return [self.messages[i] for i in ids if not self.messages[i].deleted]

    def permissions(self, guild: Guild, user_id: int) -> int:
        """Guild-level permissions: owner and Administrator get everything, else OR of roles."""
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        perms = guild.roles[guild.id].permissions
        member = guild.members.get(user_id)
        for role_id in member.roles if member else []:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms
