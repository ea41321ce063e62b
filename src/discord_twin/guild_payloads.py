"""Wire payloads for guilds (GUILD_CREATE, REST), the application and its commands."""

from __future__ import annotations

from typing import Any, TypedDict

from .payloads import channel_payload, member_payload, role_payload, user_payload
from .state import Application, Command, Guild, Store, iso


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
