"""Registering project directories as Discord channels; shared by the CLI and slash commands.

A project is a text channel under this machine's category (`Kimaki <hostname>` unless
`--category` says otherwise: each machine in a shared server has its own bot and its
own category), named after the directory's basename, with the full path as its topic.
Removing a project forgets the mapping (and its threads' bindings) but leaves the
channel and its history in Discord.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

import discord

from kimaki.config import Config
from kimaki.discord_limits import NAME_LIMIT
from kimaki.project_paths import ProjectRules
from kimaki.store import Store
from kimaki.store.db import Conflict
from kimaki.store.ids import ChannelID, GuildID
from kimaki.store.projects import Project

CATEGORY_PREFIX = "Kimaki"
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")


class ProjectError(ValueError):
    """A refusal with a message meant for the person who asked."""


def channel_name(directory: Path) -> str:
    """`My Project_2` → `my-project-2`: Discord's text-channel alphabet, at most 100 chars."""
    name = _NOT_ALLOWED.sub("-", directory.name.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)[:NAME_LIMIT].strip("-")
    return name or "project"


def checked_directory(raw: str | Path) -> Path:
    """An absolute, existing directory, or a `ProjectError` saying what is wrong."""
    text = str(raw).strip()
    if not text:
        raise ProjectError("give the project's directory path")
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    path = path.resolve()
    if not path.exists():
        raise ProjectError(f"{path} does not exist")
    if not path.is_dir():
        raise ProjectError(f"{path} is not a directory")
    return path


def default_category() -> str:
    """`Kimaki <hostname>`: the category of this machine's project channels."""
    host = socket.gethostname().split(".")[0] or "this machine"
    return f"{CATEGORY_PREFIX} {host}"[:NAME_LIMIT]


@dataclass(frozen=True)
class AddedProject:
    project: Project
    channel: discord.TextChannel


def discord_directory(raw: str, settings: Config) -> Path:
    """The directory a Discord user asked for, if they may register it (see project_paths)."""
    rules = ProjectRules.of(settings.projects_roots, settings.data_dir)
    directory = rules.allowed(raw)
    if directory is None:
        raise ProjectError(rules.refusal())
    return directory


async def add_project(
    store: Store,
    guild: discord.Guild,
    raw_directory: str | Path,
    *,
    from_discord: Config | None = None,
    category: str | None = None,
) -> AddedProject:
    """Create the channel (and the category if missing) and record the mapping.

    `from_discord` (kimaki's settings) limits the directory to what a Discord user may
    register; without it (the command line) any existing directory goes. `category`
    is the category's name (default `default_category()`).
    """
    if from_discord is not None:
        directory = discord_directory(str(raw_directory), from_discord)
    else:
        directory = checked_directory(raw_directory)
    existing = [p for p in store.projects.by_directory(directory) if p.guild_id == guild.id]
    if existing:
        raise ProjectError(
            f"{directory} is already registered in this server as <#{existing[0].channel_id}>"
        )
    parent = await _category(guild, category or default_category())
    channel = await guild.create_text_channel(
        channel_name(directory),
        category=parent,
        topic=f"kimaki project: {directory}",
        reason="kimaki project add",
    )
    try:
        project = store.projects.add(ChannelID(channel.id), GuildID(guild.id), directory)
    except Conflict:
        await channel.delete(reason="kimaki: project was registered meanwhile")
        raise ProjectError(f"{directory} is already registered in this server") from None
    return AddedProject(project, channel)


def find_project(store: Store, target: str) -> Project:
    """A project by channel id (digits) or by directory path."""
    target = target.strip()
    if target.isdigit():
        project = store.projects.get(ChannelID(int(target)))
        if project is None:
            raise ProjectError(f"no project is registered for channel {target}")
        return project
    directory = Path(target).expanduser().resolve()
    matches = store.projects.by_directory(directory)
    if not matches:
        raise ProjectError(f"no project is registered for {directory}")
    if len(matches) > 1:
        ids = ", ".join(str(p.channel_id) for p in matches)
        raise ProjectError(f"{directory} is registered in several servers; pick a channel: {ids}")
    return matches[0]


def remove_project(store: Store, project: Project) -> None:
    store.projects.remove(project.channel_id)


async def _category(guild: discord.Guild, name: str) -> discord.CategoryChannel:
    channels = await guild.fetch_channels()
    for channel in channels:
        if isinstance(channel, discord.CategoryChannel) and channel.name.lower() == name.lower():
            return channel
    return await guild.create_category(name, reason="kimaki project add")
