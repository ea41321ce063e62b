"""Message writes: post (validation, nonces, replies, mentions), edit, delete, typing, reactions.

Users acting through the control API and bots over REST both come here, so both follow the
same rules.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .. import errors as E
from ..errors import TwinError, invalid_form
from ..gateway import GUILD_MESSAGE_REACTIONS, GUILD_MESSAGE_TYPING, GUILD_MESSAGES
from ..payloads import emoji_payload, member_payload
from ..state import (
    EPHEMERAL,
    GUILD_CATEGORY,
    IS_COMPONENTS_V2,
    LOADING,
    SUPPRESS_EMBEDS,
    Channel,
    Message,
    MessageWrite,
    TypingEvent,
)
from .base import NewFile
from .channels import ChannelOps

MESSAGE_FLAGS_ALLOWED = (1 << 2) | (1 << 6) | (1 << 12) | (1 << 15)  # suppress embeds/notifs, v2
NONCE_WINDOW_S = 300.0
MAX_CONTENT = 2000
MAX_PREMIUM_CONTENT = 4000
MAX_EMBEDS = 10
MAX_EMBED_CHARS = 6000
MAX_REACTIONS = 20

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


class MessageOps(ChannelOps):
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
        author = self.store.users.get(author_id)
        limit = MAX_PREMIUM_CONTENT if author is not None and author.premium else MAX_CONTENT
        self._validate_message(content, embeds, nonce, limit=limit)
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
        attachments = self.new_attachments(files)
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
            attachments=attachments,
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
        self.events.append("message_create", message, MessageWrite.of("create", message))
        return message, True

    def _validate_message(
        self, content: str, embeds: list[dict[str, Any]], nonce: Any, *, limit: int = MAX_CONTENT
    ) -> None:
        if len(content) > limit:
            raise invalid_form(
                "content", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
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

    def edit_message(
        self, message: Message, changes: dict[str, Any], files: list[NewFile] | None = None
    ) -> Message:
        """Apply an edit; `files` are uploaded with it (kept whatever `attachments` lists, as
        their entries there name them by upload index, not by id)."""
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
            # Discord lets an edit toggle SUPPRESS_EMBEDS and set IS_COMPONENTS_V2; every other
            # flag (SUPPRESS_NOTIFICATIONS, EPHEMERAL, …) stays as the message was created.
            wanted = int(changes["flags"])
            message.flags = (message.flags & ~SUPPRESS_EMBEDS) | (wanted & SUPPRESS_EMBEDS)
            message.flags |= wanted & IS_COMPONENTS_V2
        if "attachments" in changes and changes["attachments"] is not None:
            keep_ids = {int(a["id"]) for a in changes["attachments"] if "id" in a}
            message.attachments = [a for a in message.attachments if a.id in keep_ids]
        if files:
            message.attachments.extend(self.new_attachments(files))
        message.flags &= ~LOADING
        message.edited_at = time.time()
        self._message_updated(message)
        return message

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
        """Add or remove one user's reaction; a repeat is a no-op, as on Discord."""
        users = message.reactions.get(emoji, set())
        if add == (user_id in users):
            return
        if add and not users and sum(1 for u in message.reactions.values() if u) >= MAX_REACTIONS:
            raise TwinError(400, E.TOO_MANY_REACTIONS, "Maximum number of reactions reached (20)")
        message.reactions[emoji] = users
        (users.add if add else users.discard)(user_id)
        payload: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": emoji_payload(emoji),
            "type": 0,
            "burst": False,
        }
        guild = self.store.guilds.get(message.guild_id) if message.guild_id else None
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(user_id)
            if add and member is not None:
                payload["member"] = member_payload(self.store, member)
        if add:
            payload["message_author_id"] = str(message.author_id)
        name = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
        self.hub.dispatch(name, payload, guild_id=message.guild_id, intent=GUILD_MESSAGE_REACTIONS)
        self.events.append("reaction_add" if add else "reaction_remove", (message, emoji, user_id))


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or ""))
    total += len(str((embed.get("author") or {}).get("name") or ""))
    for fld in embed.get("fields") or []:
        total += len(str(fld.get("name") or "")) + len(str(fld.get("value") or ""))
    return total
