"""Wire payloads (TypedDicts) and the functions that build them from state objects.

Kept apart from `state.py` so the models stay free of Discord's JSON quirks (string snowflakes,
ISO timestamps, fields that must exist for discord.py to cache an object).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict
from urllib.parse import quote

from .state import (
    Application,
    Attachment,
    Channel,
    Command,
    Guild,
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


class CommandPayload(TypedDict, total=False):
    id: str
    application_id: str
    guild_id: str
    name: str
    type: int
    description: str
    options: list[dict[str, Any]]
    default_member_permissions: str | None
    dm_permission: bool
    nsfw: bool
    version: str
    contexts: list[int] | None
    integration_types: list[int]


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


def guild_create_payload(
    store: Store, guild: Guild, *, viewer_id: int | None = None
) -> dict[str, Any]:
    """Everything discord.py needs to build a Guild, its channels, threads and `guild.me`.

    `joined_at` is when `viewer_id` (the bot receiving it) joined, as on Discord.
    """
    viewer = guild.members.get(viewer_id) if viewer_id is not None else None
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "owner_id": str(guild.owner_id),
        "roles": [role_payload(r) for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": [channel_payload(c) for c in store.guild_channels(guild.id)],
        "threads": [channel_payload(t) for t in store.threads(guild_id=guild.id) if not t.archived],
        "members": [member_payload(store, m) for m in guild.members.values()],
        "member_count": len(guild.members),
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "large": False,
        "unavailable": False,
        "joined_at": iso(viewer.joined_at if viewer is not None else guild.created_at),
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "max_members": 500000,
        "application_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "splash": None,
        "discovery_splash": None,
    }


def guild_payload(store: Store, guild: Guild) -> dict[str, Any]:
    """REST `GET /guilds/{id}`: the guild without channels, members and threads."""
    full = guild_create_payload(store, guild)
    for key in ("channels", "threads", "members", "presences", "voice_states", "joined_at"):
        full.pop(key, None)
    return full


def application_payload(store: Store, app: Application) -> dict[str, Any]:
    owner = store.users[app.owner_id]
    return {
        "id": str(app.id),
        "name": app.name,
        "description": "",
        "icon": None,
        "bot_public": app.bot_public,
        "bot_require_code_grant": False,
        "owner": user_payload(owner),
        "verify_key": "0" * 64,
        "flags": app.flags,
        "team": _team_payload(store, app),
        "summary": "",
        "bot": user_payload(store.users[app.bot_user_id]),
    }


def _team_payload(store: Store, app: Application) -> dict[str, Any] | None:
    """Discord's team object: the owner is the first member; everyone is an accepted admin."""
    if not app.team_member_ids:
        return None
    return {
        "id": str(app.id + 1),
        "name": f"{app.name} team",
        "icon": None,
        "owner_user_id": str(app.team_member_ids[0]),
        "members": [
            {
                "membership_state": 2,
                "permissions": ["*"],
                "team_id": str(app.id + 1),
                "user": user_payload(store.users[user_id]),
                "role": "admin",
            }
            for user_id in app.team_member_ids
        ],
    }


def command_payload(command: Command) -> CommandPayload:
    payload: CommandPayload = {
        "id": str(command.id),
        "application_id": str(command.application_id),
        "name": command.name,
        "type": command.type,
        "description": command.description,
        "options": command.options,
        "default_member_permissions": command.raw.get("default_member_permissions"),
        "dm_permission": bool(command.raw.get("dm_permission", True)),
        "nsfw": bool(command.raw.get("nsfw", False)),
        "version": str(command.version),
        "contexts": command.raw.get("contexts"),
        "integration_types": command.raw.get("integration_types") or [0],
    }
    if command.guild_id is not None:
        payload["guild_id"] = str(command.guild_id)
    return payload
