"""Slash commands: one module per group, each registering its own commands.

- `projects`: /add-project, /remove-project
- `session`: /abort, /session-id, /resume
- `settings`: /verbosity
- `queue`: /queue (with Send now buttons), /clear-queue

A module declares the narrow dependencies its commands use (a frozen dataclass) and a
`CommandGroup`; adding a command is one `@group.command` function in one module. No
command checks access: the gate stands in front of the whole tree (`kimaki.bot.gate`).
"""

from __future__ import annotations

import discord
from discord import app_commands

from kimaki.bot.commands import projects, queue, session, settings
from kimaki.bot.commands.base import KimakiTree, answer_later, reply
from kimaki.bot.commands.projects import ProjectDeps
from kimaki.bot.commands.queue import QueueDeps
from kimaki.bot.commands.session import SessionDeps
from kimaki.bot.commands.settings import SettingsDeps

__all__ = [
    "KimakiTree",
    "ProjectDeps",
    "QueueDeps",
    "SessionDeps",
    "SettingsDeps",
    "answer_later",
    "register_commands",
    "reply",
]


def register_commands(
    tree: app_commands.CommandTree[discord.Client],
    *,
    projects_deps: ProjectDeps,
    session_deps: SessionDeps,
    settings_deps: SettingsDeps,
    queue_deps: QueueDeps | None = None,
) -> None:
    """Add every group's commands to the tree (before the bot places them in guilds)."""
    for command in [
        *projects.group.build(projects_deps),
        *session.group.build(session_deps),
        *settings.group.build(settings_deps),
        *(queue.group.build(queue_deps) if queue_deps is not None else []),
    ]:
        tree.add_command(command)
