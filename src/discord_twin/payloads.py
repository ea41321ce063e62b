"""Wire payloads (TypedDicts) and the functions that build them from state objects.

Kept apart from `state.py` so the models stay free of Discord's JSON quirks (string snowflakes,
ISO timestamps, fields that must exist for discord.py to cache an object).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict
from urllib.parse import quote

from .state import (
    Attachment,
    Channel,
    Member,
    Message,
    Role,
    Store,
    User,
    iso,
)


class UserPayload(TypedDict):
    id: str
    username: str
    discriminator: str
    global_name: str | None
    avatar: str | None
    bot: bool
    public_flags: int


class RolePayload(TypedDict):
    id: str
    name: str
    permissions: str
    position: int
    color: int
    hoist: bool
    managed: bool
    mentionable: bool
    flags: int


class MemberPayload(TypedDict):
    user: UserPayload
    roles: list[str]
    nick: str | None
    joined_at: str
    deaf: bool
    mute: bool
    flags: int
    pending: bool
    permissions: NotRequired[str]


class ThreadMetadataPayload(TypedDict):
    archived: bool
    auto_archive_duration: int
    archive_timestamp: str
    locked: bool
    invitable: bool
    create_timestamp: str


class ChannelPayload(TypedDict, total=False):
    id: str
    type: int
    name: str
    guild_id: str
    position: int
    parent_id: str | None
    topic: str | None
    nsfw: bool
    rate_limit_per_user: int
    last_message_id: str | None
    permission_overwrites: list[dict[str, Any]]
    flags: int
    owner_id: str
    message_count: int
    member_count: int
    total_message_sent: int
    thread_metadata: ThreadMetadataPayload
    newly_created: bool


class AttachmentPayload(TypedDict):
    id: str
    filename: str
    size: int
    url: str
    proxy_url: str
    content_type: NotRequired[str]
    description: NotRequired[str]
    width: NotRequired[int]
    height: NotRequired[int]


class MessagePayload(TypedDict, total=False):
    id: str
    channel_id: str
    guild_id: str
    author: UserPayload
    member: dict[str, Any]
    content: str
    timestamp: str
    edited_timestamp: str | None
    tts: bool
    mention_everyone: bool
    mentions: list[UserPayload]
    mention_roles: list[str]
    attachments: list[AttachmentPayload]
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    reactions: list[dict[str, Any]]
    nonce: str | int
    pinned: bool
    type: int
    flags: int
    webhook_id: str
    application_id: str
    message_reference: dict[str, Any]
    referenced_message: MessagePayload | None
    interaction_metadata: dict[str, Any]
    position: int


def user_payload(user: User) -> UserPayload:
    return {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": user.avatar,
        "bot": user.bot,
        "public_flags": 0,
    }


def role_payload(role: Role) -> RolePayload:
    return {
        "id": str(role.id),
        "name": role.name,
        "permissions": str(role.permissions),
        "position": role.position,
        "color": role.color,
        "hoist": role.hoist,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }


def member_payload(
    store: Store, member: Member, *, with_permissions: bool = False
) -> MemberPayload:
    payload: MemberPayload = {
        "user": user_payload(store.users[member.user_id]),
        "roles": [str(r) for r in member.roles],
        "nick": member.nick,
        "joined_at": iso(member.joined_at),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }
    if with_permissions:
        guild = store.guilds[member.guild_id]
        payload["permissions"] = str(store.permissions(guild, member.user_id))
    return payload


def member_without_user(payload: MemberPayload) -> dict[str, Any]:
    """MESSAGE_CREATE and TYPING_START carry `member` without its `user`."""
    return {k: v for k, v in payload.items() if k != "user"}


def channel_payload(channel: Channel) -> ChannelPayload:
    payload: ChannelPayload = {
        "id": str(channel.id),
        "type": channel.type,
        "name": channel.name,
        "position": channel.position,
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "nsfw": channel.nsfw,
        "rate_limit_per_user": channel.rate_limit_per_user,
        "last_message_id": str(channel.last_message_id) if channel.last_message_id else None,
        "flags": 0,
    }
    if channel.guild_id is not None:
        payload["guild_id"] = str(channel.guild_id)
    if channel.is_thread:
        payload["owner_id"] = str(channel.owner_id)
        payload["message_count"] = channel.message_count
        payload["total_message_sent"] = channel.total_message_sent
        payload["member_count"] = len(channel.thread_members)
        payload["thread_metadata"] = {
            "archived": channel.archived,
            "auto_archive_duration": channel.auto_archive_duration,
            "archive_timestamp": iso(channel.archive_timestamp),
            "locked": channel.locked,
            "invitable": channel.invitable,
            "create_timestamp": iso(channel.created_at),
        }
    else:
        payload["topic"] = channel.topic
        payload["permission_overwrites"] = []
    return payload


def attachment_url(base_url: str, channel_id: int, attachment: Attachment) -> str:
    """Served by the twin itself (`GET /attachments/…`), like Discord's CDN path."""
    return f"{base_url}/attachments/{channel_id}/{attachment.id}/{quote(attachment.filename)}"


def attachment_payload(attachment: Attachment, base_url: str, channel_id: int) -> AttachmentPayload:
    url = attachment_url(base_url, channel_id, attachment)
    payload: AttachmentPayload = {
        "id": str(attachment.id),
        "filename": attachment.filename,
        "size": len(attachment.data),
        "url": url,
        "proxy_url": url,
    }
    if attachment.content_type:
        payload["content_type"] = attachment.content_type
    if attachment.description:
        payload["description"] = attachment.description
    if attachment.width is not None and attachment.height is not None:
        payload["width"] = attachment.width
        payload["height"] = attachment.height
    return payload


def emoji_payload(emoji: str) -> dict[str, Any]:
    """`name:id` (how discord.py puts a custom emoji in the URL) or a unicode emoji."""
    name, _, emoji_id = emoji.rpartition(":")
    if name and emoji_id.isdigit():
        return {"id": emoji_id, "name": name.removeprefix("a:"), "animated": name.startswith("a:")}
    return {"id": None, "name": emoji}


def reaction_payload(emoji: str, users: set[int], viewer_id: int | None) -> dict[str, Any]:
    """`me` is whether the user reading the message reacted (REST answers per bot)."""
    return {
        "emoji": emoji_payload(emoji),
        "count": len(users),
        "count_details": {"burst": 0, "normal": len(users)},
        "me": viewer_id in users,
        "me_burst": False,
        "burst_colors": [],
    }


def message_payload(
    store: Store,
    message: Message,
    base_url: str = "",
    *,
    with_reference: bool = True,
    viewer_id: int | None = None,
) -> MessagePayload:
    author = store.users[message.author_id]
    payload: MessagePayload = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": user_payload(author),
        "content": message.content,
        "timestamp": iso(message.created_at),
        "edited_timestamp": iso(message.edited_at) if message.edited_at else None,
        "tts": message.tts,
        "mention_everyone": message.mention_everyone,
        "mentions": [user_payload(store.users[u]) for u in message.mentions if u in store.users],
        "mention_roles": [str(r) for r in message.mention_roles],
        "attachments": [
            attachment_payload(a, base_url, message.channel_id) for a in message.attachments
        ],
        "embeds": message.embeds,
        "components": message.components,
        "pinned": message.pinned,
        "type": message.type,
        "flags": message.flags,
    }
    reactions = [
        reaction_payload(emoji, users, viewer_id)
        for emoji, users in message.reactions.items()
        if users
    ]
    if reactions:
        payload["reactions"] = reactions
    if message.guild_id is not None:
        payload["guild_id"] = str(message.guild_id)
        guild = store.guilds.get(message.guild_id)
        member = guild.members.get(message.author_id) if guild else None
        if member is not None and message.webhook_id is None:
            payload["member"] = member_without_user(member_payload(store, member))
    if message.nonce is not None:
        payload["nonce"] = message.nonce
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    if message.application_id is not None:
        payload["application_id"] = str(message.application_id)
    if message.reference_message_id is not None:
        payload["message_reference"] = {
            "type": 0,
            "message_id": str(message.reference_message_id),
            "channel_id": str(message.reference_channel_id or message.channel_id),
            **({"guild_id": str(message.guild_id)} if message.guild_id else {}),
        }
        if with_reference:
            ref = store.messages.get(message.reference_message_id)
            payload["referenced_message"] = (
                message_payload(store, ref, base_url, with_reference=False)
                if ref is not None and not ref.deleted
                else None
            )
    if message.interaction_id is not None:
        interaction = store.interactions.get(message.interaction_id)
        if interaction is not None:
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user_payload(store.users[interaction.user_id]),
                "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
            }
    return payload
