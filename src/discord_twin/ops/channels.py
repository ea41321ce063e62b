"""Channel and thread writes: create, update (rename, archive, lock), delete."""

from __future__ import annotations

import time
from typing import Any

from ..errors import TwinError, check_length, invalid_form
from ..gateway import GUILDS
from ..payloads import channel_payload
from ..state import (
    GUILD_CATEGORY,
    GUILD_TEXT,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Channel,
    Guild,
    Message,
)
from .base import OpsBase

AUTO_ARCHIVE_DURATIONS = frozenset({60, 1440, 4320, 10080})
GUILD_CHANNEL_TYPES = frozenset({0, 2, 4, 5, 13, 15, 16})


class ChannelOps(OpsBase):
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
        self.events.append("thread_create", thread, data=payload)  # the name it was born with
        if from_message is not None:
            from_message.thread_id = thread.id
            self._message_updated(from_message, edit=False)
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
