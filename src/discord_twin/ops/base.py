"""What every resource family of `Ops` shares: the store, lookups that raise Discord's errors,
and the helpers that announce an updated channel or message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import errors as E
from ..errors import TwinError, not_found
from ..events import EventLog
from ..gateway import GUILD_MESSAGES, GUILDS, GatewayHub
from ..media import content_type, image_size
from ..payloads import channel_payload, message_payload
from ..state import Attachment, Channel, Guild, Message, MessageWrite, Store

INTERACTION_DEADLINE_S = 3.0
UPLOAD_LIMIT = 25 * 1024 * 1024
"""Bytes of files per message for a guild without boosts (Discord's 25 MiB request limit)."""


@dataclass(slots=True)
class NewFile:
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


class OpsBase:
    """State, lookups and the update dispatchers every resource family shares."""

    def __init__(self, store: Store, events: EventLog, hub: GatewayHub) -> None:
        self.store = store
        self.events = events
        self.hub = hub
        self.base_url = ""
        # Discord's 3 s to acknowledge an interaction; tests may shorten it.
        self.interaction_deadline = INTERACTION_DEADLINE_S
        self.upload_limit = UPLOAD_LIMIT

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

    def message_json(self, message: Message, viewer_id: int | None = None) -> dict[str, Any]:
        """The message as `viewer_id` reads it over REST (its reactions' `me`)."""
        return dict(message_payload(self.store, message, self.base_url, viewer_id=viewer_id))

    def new_attachments(self, files: list[NewFile]) -> list[Attachment]:
        """Store uploads as Discord's CDN would (type from name and bytes, image size); more
        than `upload_limit` bytes in one message is 413 / 40005, as on Discord."""
        if sum(len(f.data) for f in files) > self.upload_limit:
            raise TwinError(413, E.REQUEST_TOO_LARGE, "Request entity too large")
        attachments = []
        for f in files:
            size = image_size(f.data)
            attachment = Attachment(
                id=self.store.ids.next(),
                filename=f.filename,
                data=f.data,
                content_type=content_type(f.filename, f.data, f.content_type),
                description=f.description,
                width=size[0] if size else None,
                height=size[1] if size else None,
            )
            self.store.attachments[attachment.id] = attachment
            attachments.append(attachment)
        return attachments

    # ---- dispatching updates ----------------------------------------------------------------
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

    def _message_updated(self, message: Message, *, edit: bool = True) -> None:
        """`edit` is a change by its author (logged with a snapshot); False for Discord's own
        updates such as a thread started from the message."""
        if message.ephemeral_for is None:
            self.hub.dispatch(
                "MESSAGE_UPDATE",
                self.message_json(message),
                guild_id=message.guild_id,
                intent=GUILD_MESSAGES,
                message=message,
            )
        self.events.append(
            "message_update", message, MessageWrite.of("edit", message) if edit else None
        )
