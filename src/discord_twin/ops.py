"""Writes: each one validates like Discord, mutates the store, logs an event and dispatches the
gateway event. REST handlers and the control API (users acting) both go through here, so a
message a test user sends and one the bot sends follow the same rules.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from . import errors as E
from .errors import TwinError, check_length, invalid_form, not_found
from .events import EventLog
from .gateway import (
    GUILD_MEMBERS,
    GUILD_MESSAGE_REACTIONS,
    GUILD_MESSAGE_TYPING,
    GUILD_MESSAGES,
    GUILDS,
    GatewayHub,
)
from .payloads import (
    channel_payload,
    command_payload,
    member_payload,
    message_payload,
    role_payload,
    user_payload,
)
from .state import (
    EPHEMERAL,
    GUILD_CATEGORY,
    GUILD_TEXT,
    LOADING,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Attachment,
    Channel,
    Command,
    Guild,
    Interaction,
    Member,
    Message,
    Role,
    Store,
    TypingEvent,
    User,
)

AUTO_ARCHIVE_DURATIONS = frozenset({60, 1440, 4320, 10080})
GUILD_CHANNEL_TYPES = frozenset({0, 2, 4, 5, 13, 15, 16})
MESSAGE_FLAGS_ALLOWED = (1 << 2) | (1 << 6) | (1 << 12) | (1 << 15)  # suppress embeds/notifs, v2
NONCE_WINDOW_S = 300.0
INTERACTION_DEADLINE_S = 3.0
INTERACTION_TOKEN_TTL_S = 15 * 60.0
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_CHARS = 6000

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


@dataclass(slots=True)
class NewFile:
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


class Ops:
    def __init__(self, store: Store, events: EventLog, hub: GatewayHub) -> None:
        self.store = store
        self.events = events
        self.hub = hub
        self.base_url = ""
        # Discord's 3 s to acknowledge an interaction; tests may shorten it.
        self.interaction_deadline = INTERACTION_DEADLINE_S

    # ---- lookups that raise Discord errors ------------------------------------------------
    def channel(self, channel_id: int) -> Channel:
        channel = self.store.channels.get(channel_id)
        if channel is None:
            raise not_found(E.UNKNOWN_CHANNEL, "Channel")
        return channel

    def guild(self, guild_id: int) -> Guild:
        guild = self.store.guilds.get(guild_id)
        if guild is None:
            raise not_found(E.UNKNOWN_GUILD, "Guild")
        return guild

    def message(self, channel_id: int, message_id: int) -> Message:
        message = self.store.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id:
            raise not_found(E.UNKNOWN_MESSAGE, "Message")
        return message

    def message_json(self, message: Message) -> dict[str, Any]:
        return dict(message_payload(self.store, message, self.base_url))

    # ---- guild, roles, members ------------------------------------------------------------
    def add_member(self, guild: Guild, user: User, roles: list[int] | None = None) -> Member:
        member = self.store.add_member(guild, user, roles)
        payload = {**member_payload(self.store, member), "guild_id": str(guild.id)}
        self.hub.dispatch("GUILD_MEMBER_ADD", payload, guild_id=guild.id, intent=GUILD_MEMBERS)
        self.events.append("member_add", member)
        return member

    def add_role(self, guild: Guild, name: str, permissions: int = 0, **extra: Any) -> Role:
        check_length("name", name, 1, 100)
        role = self.store.add_role(guild, name, permissions, **extra)
        self.hub.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role_payload(role)},
            guild_id=guild.id,
            intent=GUILDS,
        )
        self.events.append("role_create", role)
        return role

    def set_member_roles(self, guild: Guild, member: Member, roles: list[int]) -> Member:
        for role_id in roles:
            if role_id not in guild.roles:
                raise not_found(E.UNKNOWN_ROLE, "Role")
        member.roles = [r for r in roles if r != guild.id]
        payload = {**member_payload(self.store, member), "guild_id": str(guild.id)}
        self.hub.dispatch("GUILD_MEMBER_UPDATE", payload, guild_id=guild.id, intent=GUILD_MEMBERS)
        self.events.append("member_update", member)
        return member

    # ---- channels and threads -------------------------------------------------------------
    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = GUILD_TEXT,
        parent_id: int | None = None,
        topic: str | None = None,
        position: int | None = None,
        nsfw: bool = False,
    ) -> Channel:
        check_length("name", name, 1, 100)
        if type not in GUILD_CHANNEL_TYPES:
            raise invalid_form(
                "type", "BASE_TYPE_CHOICES", f"Value must be one of {GUILD_CHANNEL_TYPES}."
            )
        if parent_id is not None:
            parent = self.store.channels.get(parent_id)
            if parent is None or parent.guild_id != guild.id or parent.type != GUILD_CATEGORY:
                raise invalid_form("parent_id", "CHANNEL_PARENT_INVALID", "Invalid category")
            if type == GUILD_CATEGORY:
                raise invalid_form("parent_id", "CHANNEL_PARENT_INVALID", "Categories cannot nest")
        if type != GUILD_CATEGORY:
            name = name.lower().replace(" ", "-") if type == GUILD_TEXT else name
        siblings = [c for c in self.store.guild_channels(guild.id) if c.type == type]
        channel = self.store.add_channel(
            Channel(
                id=self.store.ids.next(),
                type=type,
                name=name,
                guild_id=guild.id,
                parent_id=parent_id,
                topic=topic,
                nsfw=nsfw,
                position=len(siblings) if position is None else position,
            )
        )
        self.hub.dispatch(
            "CHANNEL_CREATE", channel_payload(channel), guild_id=guild.id, intent=GUILDS
        )
        self.events.append("channel_create", channel)
        return channel

    def create_thread(
        self,
        parent: Channel,
        name: str,
        owner_id: int,
        *,
        type: int = PUBLIC_THREAD,
        auto_archive_duration: int | None = None,
        invitable: bool = True,
        from_message: Message | None = None,
    ) -> Channel:
        check_length("name", name, 1, 100)
        if parent.is_thread or parent.type == GUILD_CATEGORY or parent.guild_id is None:
            raise TwinError(400, 50024, "Cannot execute action on this channel type")
        if type not in (PUBLIC_THREAD, PRIVATE_THREAD, 10):
            raise invalid_form("type", "BASE_TYPE_CHOICES", "Value must be one of (10, 11, 12).")
        duration = self._auto_archive(auto_archive_duration or 4320)
        if from_message is not None:
            if from_message.thread_id is not None:
                raise TwinError(400, 160004, "A thread has already been created for this message")
            thread_id = from_message.id
            type = PUBLIC_THREAD
        else:
            thread_id = self.store.ids.next()
        thread = self.store.add_channel(
            Channel(
                id=thread_id,
                type=type,
                name=name,
                guild_id=parent.guild_id,
                parent_id=parent.id,
                owner_id=owner_id,
                auto_archive_duration=duration,
                invitable=invitable,
                thread_members={owner_id},
            )
        )
        payload = {**channel_payload(thread), "newly_created": True}
        self.hub.dispatch("THREAD_CREATE", payload, guild_id=parent.guild_id, intent=GUILDS)
        self.events.append("thread_create", thread)
        if from_message is not None:
            from_message.thread_id = thread.id
            self._message_updated(from_message)
        return thread

    def _auto_archive(self, value: Any) -> int:
        if value not in AUTO_ARCHIVE_DURATIONS:
            raise invalid_form(
                "auto_archive_duration",
                "BASE_TYPE_CHOICES",
                f"Value must be one of {sorted(AUTO_ARCHIVE_DURATIONS)}.",
            )
        return int(value)

    def update_channel(self, channel: Channel, changes: dict[str, Any]) -> Channel:
        """PATCH semantics: only the given keys change; threads also archive, lock, rename."""
        if "name" in changes:
            check_length("name", str(changes["name"]), 1, 100)
            channel.name = str(changes["name"])
        if "topic" in changes and not channel.is_thread:
            channel.topic = changes["topic"]
        if "position" in changes and changes["position"] is not None:
            channel.position = int(changes["position"])
        if "nsfw" in changes:
            channel.nsfw = bool(changes["nsfw"])
        if "rate_limit_per_user" in changes:
            channel.rate_limit_per_user = int(changes["rate_limit_per_user"] or 0)
        if "parent_id" in changes and not channel.is_thread:
            parent_id = changes["parent_id"]
            channel.parent_id = int(parent_id) if parent_id else None
        if channel.is_thread:
            if "auto_archive_duration" in changes:
                channel.auto_archive_duration = self._auto_archive(changes["auto_archive_duration"])
            if "archived" in changes and bool(changes["archived"]) != channel.archived:
                channel.archived = bool(changes["archived"])
                channel.archive_timestamp = time.time()
            if "locked" in changes:
                channel.locked = bool(changes["locked"])
            if "invitable" in changes:
                channel.invitable = bool(changes["invitable"])
        self._channel_updated(channel)
        return channel

    def _channel_updated(self, channel: Channel) -> None:
        name, kind = (
            ("THREAD_UPDATE", "thread_update")
            if channel.is_thread
            else (
                "CHANNEL_UPDATE",
                "channel_update",
            )
        )
        self.hub.dispatch(name, channel_payload(channel), guild_id=channel.guild_id, intent=GUILDS)
        self.events.append(kind, channel)

    def delete_channel(self, channel: Channel) -> Channel:
        if channel.is_thread:
            self.store.channels.pop(channel.id, None)
            payload = {
                "id": str(channel.id),
                "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            }
            self.hub.dispatch("THREAD_DELETE", payload, guild_id=channel.guild_id, intent=GUILDS)
            self.events.append("thread_delete", channel)
            return channel
        for thread in self.store.threads(parent_id=channel.id):
            self.store.channels.pop(thread.id, None)
        for child in self.store.channels.values():
            if child.parent_id == channel.id and not child.is_thread:
                child.parent_id = None
        self.store.channels.pop(channel.id, None)
        self.hub.dispatch(
            "CHANNEL_DELETE", channel_payload(channel), guild_id=channel.guild_id, intent=GUILDS
        )
        self.events.append("channel_delete", channel)
        return channel

    # ---- messages -------------------------------------------------------------------------
    def post_message(
        self,
        channel: Channel,
        author_id: int,
        *,
        content: str | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        files: list[NewFile] | None = None,
        flags: int = 0,
        nonce: str | int | None = None,
        enforce_nonce: bool = False,
        message_reference: dict[str, Any] | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        tts: bool = False,
        type: int = 0,
        webhook_id: int | None = None,
        application_id: int | None = None,
        interaction_id: int | None = None,
        ephemeral_for: int | None = None,
        allow_empty: bool = False,
    ) -> tuple[Message, bool]:
        """Create a message; returns (message, created). A nonce repeat returns the first one."""
        content = content or ""
        embeds = list(embeds or [])
        components = list(components or [])
        files = list(files or [])
        self._validate_message(content, embeds, nonce)
        if not (content or embeds or components or files or allow_empty):
            raise TwinError(400, E.EMPTY_MESSAGE, "Cannot send an empty message")
        if channel.type == GUILD_CATEGORY:
            raise TwinError(400, 50008, "Cannot send messages in a non-text channel")
        if enforce_nonce and nonce is not None:
            # Discord scopes the check to the author, not the channel.
            key = (author_id, str(nonce))
            seen = self.store.nonces.get(key)
            if seen is not None and time.time() - seen[1] < NONCE_WINDOW_S:
                first = self.store.messages.get(seen[0])
                if first is not None:
                    return first, False
        reference_id = self._reference(channel, message_reference)
        if channel.is_thread and channel.archived:
            if channel.locked:
                raise TwinError(400, E.THREAD_LOCKED, "Thread is locked")
            self.update_channel(channel, {"archived": False})
        mentions, roles, everyone = self._mentions(channel, content, allowed_mentions, reference_id)
        message = Message(
            id=self.store.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            content=content,
            type=19 if reference_id is not None and type == 0 else type,
            embeds=embeds,
            components=components,
            attachments=[
                Attachment(self.store.ids.next(), f.filename, f.data, f.content_type, f.description)
                for f in files
            ],
            # EPHEMERAL only sticks to interaction responses, as on Discord.
            flags=flags & (MESSAGE_FLAGS_ALLOWED | LOADING) & ~(0 if ephemeral_for else EPHEMERAL),
            nonce=nonce,
            tts=tts,
            mentions=mentions,
            mention_roles=roles,
            mention_everyone=everyone,
            allowed_mentions=allowed_mentions,
            reference_message_id=reference_id,
            reference_channel_id=channel.id if reference_id is not None else None,
            webhook_id=webhook_id,
            application_id=application_id,
            interaction_id=interaction_id,
            ephemeral_for=ephemeral_for,
        )
        self.store.add_message(message)
        if nonce is not None:
            self.store.nonces[(author_id, str(nonce))] = (message.id, time.time())
        if ephemeral_for is None:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
                channel.total_message_sent += 1
                channel.thread_members.add(author_id)
            self.hub.dispatch(
                "MESSAGE_CREATE",
                self.message_json(message),
                guild_id=channel.guild_id,
                intent=GUILD_MESSAGES,
                message=message,
            )
        self.events.append("message_create", message)
        return message, True

    def _validate_message(self, content: str, embeds: list[dict[str, Any]], nonce: Any) -> None:
        if len(content) > MAX_CONTENT:
            raise invalid_form(
                "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
            )
        if len(embeds) > MAX_EMBEDS:
            raise invalid_form(
                "embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length."
            )
        if sum(_embed_chars(e) for e in embeds) > MAX_EMBED_CHARS:
            raise invalid_form(
                "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        if isinstance(nonce, str) and len(nonce) > 25:
            raise invalid_form("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")

    def _reference(self, channel: Channel, reference: dict[str, Any] | None) -> int | None:
        if not reference or reference.get("message_id") is None:
            return None
        ref_id = int(reference["message_id"])
        target = self.store.messages.get(ref_id)
        if target is None or target.deleted or target.channel_id != channel.id:
            if reference.get("fail_if_not_exists", True):
                raise invalid_form(
                    "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            return None
        return ref_id

    def _mentions(
        self,
        channel: Channel,
        content: str,
        allowed: dict[str, Any] | None,
        reference_id: int | None,
    ) -> tuple[list[int], list[int], bool]:
        """Who is pinged: parsed from content, filtered by `allowed_mentions` like Discord."""
        users = [int(u) for u in _USER_MENTION.findall(content) if int(u) in self.store.users]
        guild = self.store.guilds.get(channel.guild_id) if channel.guild_id else None
        roles = [int(r) for r in _ROLE_MENTION.findall(content) if guild and int(r) in guild.roles]
        everyone = "@everyone" in content or "@here" in content
        replied_user = True
        if allowed is not None:
            parse = set(allowed.get("parse") or [])
            if "users" not in parse:
                allowed_users = {int(u) for u in allowed.get("users") or []}
                users = [u for u in users if u in allowed_users]
            if "roles" not in parse:
                allowed_roles = {int(r) for r in allowed.get("roles") or []}
                roles = [r for r in roles if r in allowed_roles]
            everyone = everyone and "everyone" in parse
            replied_user = bool(allowed.get("replied_user", False))
        if reference_id is not None and replied_user:
            ref_author = self.store.messages[reference_id].author_id
            if ref_author not in users:
                users.append(ref_author)
        return list(dict.fromkeys(users)), list(dict.fromkeys(roles)), everyone

    def edit_message(self, message: Message, changes: dict[str, Any]) -> Message:
        if "content" in changes:
            content = changes["content"] or ""
            self._validate_message(content, [], None)
            message.content = content
            channel = self.store.channels.get(message.channel_id)
            if channel is not None:
                allowed = changes.get("allowed_mentions", message.allowed_mentions)
                users, roles, everyone = self._mentions(
                    channel, content, allowed, message.reference_message_id
                )
                message.mentions, message.mention_roles, message.mention_everyone = (
                    users,
                    roles,
                    everyone,
                )
        if "embeds" in changes:
            embeds = list(changes["embeds"] or [])
            self._validate_message("", embeds, None)
            message.embeds = embeds
        if "components" in changes:
            message.components = list(changes["components"] or [])
        if "flags" in changes and changes["flags"] is not None:
            keep = message.flags & (EPHEMERAL | (1 << 15))
            message.flags = keep | (int(changes["flags"]) & MESSAGE_FLAGS_ALLOWED)
        if "attachments" in changes and changes["attachments"] is not None:
            keep_ids = {int(a["id"]) for a in changes["attachments"] if "id" in a}
            message.attachments = [a for a in message.attachments if a.id in keep_ids]
        message.flags &= ~LOADING
        message.edited_at = time.time()
        self._message_updated(message)
        return message

    def add_files(self, message: Message, files: list[NewFile]) -> None:
        message.attachments.extend(
            Attachment(self.store.ids.next(), f.filename, f.data, f.content_type, f.description)
            for f in files
        )

    def _message_updated(self, message: Message) -> None:
        if message.ephemeral_for is None:
            self.hub.dispatch(
                "MESSAGE_UPDATE",
                self.message_json(message),
                guild_id=message.guild_id,
                intent=GUILD_MESSAGES,
                message=message,
            )
        self.events.append("message_update", message)

    def delete_message(self, message: Message) -> None:
        message.deleted = True
        channel = self.store.channels.get(message.channel_id)
        if channel is not None and channel.is_thread and message.ephemeral_for is None:
            channel.message_count = max(0, channel.message_count - 1)
        payload: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if message.ephemeral_for is None:
            self.hub.dispatch(
                "MESSAGE_DELETE", payload, guild_id=message.guild_id, intent=GUILD_MESSAGES
            )
        self.events.append("message_delete", message)

    def typing(self, channel: Channel, user_id: int) -> TypingEvent:
        event = TypingEvent(channel_id=channel.id, user_id=user_id)
        self.store.typing.append(event)
        payload: dict[str, Any] = {
            "channel_id": str(channel.id),
            "user_id": str(user_id),
            "timestamp": int(event.at),
        }
        guild = self.store.guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(user_id)
            if member is not None:
                payload["member"] = member_payload(self.store, member)
        self.hub.dispatch(
            "TYPING_START", payload, guild_id=channel.guild_id, intent=GUILD_MESSAGE_TYPING
        )
        self.events.append("typing", event)
        return event

    def react(self, message: Message, emoji: str, user_id: int, *, add: bool = True) -> None:
        users = message.reactions.setdefault(emoji, set())
        if add == (user_id in users):
            return
        (users.add if add else users.discard)(user_id)
        payload: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
        }
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        name = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
        self.hub.dispatch(name, payload, guild_id=message.guild_id, intent=GUILD_MESSAGE_REACTIONS)
        self.events.append("reaction_add" if add else "reaction_remove", (message, emoji, user_id))

    # ---- application commands -------------------------------------------------------------
    def put_commands(
        self, app_id: int, guild_id: int | None, raws: list[dict[str, Any]]
    ) -> list[Command]:
        """Bulk overwrite; a command keeps its id across syncs (keyed by type and name)."""
        existing = {
            (c.type, c.name): c
            for c in self.store.commands.values()
            if c.application_id == app_id and c.guild_id == guild_id
        }
        result = [
            self._upsert_command(app_id, guild_id, raw, existing, i) for i, raw in enumerate(raws)
        ]
        keep = {c.id for c in result}
        for command in existing.values():
            if command.id not in keep:
                self.store.commands.pop(command.id, None)
        self.events.append("commands_update", {"guild_id": guild_id, "commands": result})
        return result

    def upsert_command(self, app_id: int, guild_id: int | None, raw: dict[str, Any]) -> Command:
        existing = {
            (c.type, c.name): c
            for c in self.store.commands.values()
            if c.application_id == app_id and c.guild_id == guild_id
        }
        command = self._upsert_command(app_id, guild_id, raw, existing, 0)
        self.events.append("commands_update", {"guild_id": guild_id, "commands": [command]})
        return command

    def _upsert_command(
        self,
        app_id: int,
        guild_id: int | None,
        raw: dict[str, Any],
        existing: dict[tuple[int, str], Command],
        index: int,
    ) -> Command:
        name = str(raw.get("name", ""))
        ctype = int(raw.get("type", 1))
        if (ctype == 1 and not _COMMAND_NAME.match(name)) or (name != name.lower() and ctype == 1):
            raise invalid_form(f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
        if ctype == 1:
            check_length(f"{index}.description", str(raw.get("description", "")), 1, 100)
        command = existing.get((ctype, name))
        if command is None:
            command = Command(
                id=self.store.ids.next(), application_id=app_id, guild_id=guild_id, name=name
            )
        command.type = ctype
        command.description = str(raw.get("description", ""))
        command.options = list(raw.get("options") or [])
        command.raw = dict(raw)
        command.version = self.store.ids.next()
        self.store.commands[command.id] = command
        return command

    def commands(self, app_id: int, guild_id: int | None) -> list[Command]:
        return [
            c
            for c in self.store.commands.values()
            if c.application_id == app_id and c.guild_id == guild_id
        ]

    def command_json(self, command: Command) -> dict[str, Any]:
        return dict(command_payload(command))

    # ---- interactions ---------------------------------------------------------------------
    def create_interaction(
        self,
        app_id: int,
        type: int,
        user_id: int,
        channel: Channel,
        data: dict[str, Any],
        *,
        message: Message | None = None,
    ) -> Interaction:
        interaction = Interaction(
            id=self.store.ids.next(),
            token=f"twin-{secrets.token_urlsafe(24)}",
            type=type,
            application_id=app_id,
            user_id=user_id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            data=data,
            message_id=message.id if message else None,
        )
        self.store.interactions[interaction.id] = interaction
        self.hub.dispatch("INTERACTION_CREATE", self.interaction_json(interaction), app_id=app_id)
        self.events.append("interaction_create", interaction)
        return interaction

    def interaction_json(self, interaction: Interaction) -> dict[str, Any]:
        channel = self.store.channels[interaction.channel_id]
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(interaction.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "channel_id": str(channel.id),
            "channel": channel_payload(channel),
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "context": 0 if interaction.guild_id else 1,
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
        }
        guild = self.store.guilds.get(interaction.guild_id) if interaction.guild_id else None
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            bot_id = self.store.applications[interaction.application_id].bot_user_id
            payload["app_permissions"] = str(self.store.permissions(guild, bot_id))
            member = guild.members.get(interaction.user_id)
            if member is not None:
                payload["member"] = member_payload(self.store, member, with_permissions=True)
        else:
            payload["user"] = user_payload(self.store.users[interaction.user_id])
            payload["app_permissions"] = "0"
        if interaction.message_id is not None:
            payload["message"] = self.message_json(self.store.messages[interaction.message_id])
        return payload

    def interaction_by_token(self, app_id: int, token: str) -> Interaction:
        for interaction in self.store.interactions.values():
            if interaction.token == token and interaction.application_id == app_id:
                if time.time() - interaction.created_at > INTERACTION_TOKEN_TTL_S:
                    break
                return interaction
        raise not_found(E.UNKNOWN_WEBHOOK, "Webhook")

    def interaction_callback(
        self, interaction_id: int, token: str, body: dict[str, Any], files: list[NewFile]
    ) -> dict[str, Any]:
        """Answer an interaction (types 4–9); returns the `with_response` body."""
        interaction = self.store.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise not_found(E.UNKNOWN_INTERACTION, "interaction")
        if interaction.response_type is not None:
            raise TwinError(
                400, E.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        if time.time() - interaction.created_at > self.interaction_deadline:
            raise not_found(E.UNKNOWN_INTERACTION, "interaction")
        rtype = int(body.get("type", 0))
        data = dict(body.get("data") or {})
        if rtype not in (1, 4, 5, 6, 7, 8, 9):
            raise invalid_form(
                "type", "BASE_TYPE_CHOICES", "Value must be one of (1, 4, 5, 6, 7, 8, 9)."
            )
        message: Message | None = None
        if rtype in (4, 5):
            message = self._interaction_message(interaction, data, files, loading=rtype == 5)
            interaction.original_message_id = message.id
        elif rtype == 7:
            if interaction.message_id is None:
                raise TwinError(400, 40004, "Interaction has no message to update")
            message = self.store.messages[interaction.message_id]
            self.add_files(message, files)
            self.edit_message(message, data)
            interaction.original_message_id = message.id
        elif rtype == 6 and interaction.message_id is not None:
            interaction.original_message_id = interaction.message_id
        interaction.response_type = rtype
        interaction.response_data = data
        self.events.append("interaction_response", interaction)
        response: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = str(message.id)
            response["resource"] = {"type": rtype, "message": self.message_json(message)}
        else:
            response["resource"] = {"type": rtype}
        return response

    def _interaction_message(
        self,
        interaction: Interaction,
        data: dict[str, Any],
        files: list[NewFile],
        *,
        loading: bool = False,
    ) -> Message:
        channel = self.channel(interaction.channel_id)
        app = self.store.applications[interaction.application_id]
        flags = int(data.get("flags") or 0)
        ephemeral = bool(flags & EPHEMERAL)
        message, _ = self.post_message(
            channel,
            app.bot_user_id,
            content=data.get("content"),
            embeds=data.get("embeds"),
            components=data.get("components"),
            files=files,
            flags=(flags | LOADING) if loading else flags,
            allowed_mentions=data.get("allowed_mentions"),
            tts=bool(data.get("tts", False)),
            type=20 if interaction.type == 2 else 0,
            webhook_id=app.id,
            application_id=app.id,
            interaction_id=interaction.id,
            ephemeral_for=interaction.user_id if ephemeral else None,
            allow_empty=loading,
        )
        return message

    def followup(
        self, interaction: Interaction, data: dict[str, Any], files: list[NewFile]
    ) -> Message:
        if interaction.response_type is None:
            raise not_found(E.UNKNOWN_WEBHOOK, "Webhook")
        message = self._interaction_message(interaction, data, files)
        interaction.followup_ids.append(message.id)
        self.events.append("interaction_followup", (interaction, message))
        return message

    def webhook_message(self, interaction: Interaction, message_ref: str) -> Message:
        if message_ref == "@original":
            if interaction.original_message_id is None:
                raise not_found(E.UNKNOWN_MESSAGE, "Message")
            message_id = interaction.original_message_id
        else:
            message_id = int(message_ref)
            if (
                message_id != interaction.original_message_id
                and message_id not in interaction.followup_ids
            ):
                raise not_found(E.UNKNOWN_MESSAGE, "Message")
        message = self.store.messages[message_id]
        if message.deleted:
            raise not_found(E.UNKNOWN_MESSAGE, "Message")
        return message


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or ""))
    total += len(str((embed.get("author") or {}).get("name") or ""))
    for fld in embed.get("fields") or []:
        total += len(str(fld.get("name") or "")) + len(str(fld.get("value") or ""))
    return total
