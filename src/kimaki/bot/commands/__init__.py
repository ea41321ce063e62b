"""Slash commands: one module per group, each registering its own commands.

- `projects`: /add-project, /remove-project
- `session`: /abort, /session-id, /resume
- `settings`: /verbosity
- `model`, `agent`: /model, /agent (what prompts use; shared parts in `choices`)
- `branches`: /new-session, /fork, /btw
- `history`: /undo, /redo, /compact
- `info`: /share, /context-usage, /last-sessions, /diff
- `shell`: /run-shell-command (and `!command` messages)
- `dynamic`: `/<agent>-agent` and `/<name>-cmd`, made per server from OpenCode's lists
- `queue`: /queue (with Send now buttons), /clear-queue
- `tasks`: /tasks (scheduled sends, with Run now and Delete buttons)

A module declares the narrow dependencies its commands use (a frozen dataclass, or the
shared `Kit`) and a `CommandGroup`; adding a command is one `@group.command` function in
one module. No command checks access: the gate stands in front of the whole tree
(`kimaki.bot.gate`).
"""

from __future__ import annotations

import discord
from discord import app_commands

from kimaki.bot.commands import (
    agent,
    branches,
    history,
    info,
    model,
    projects,
    queue,
    session,
    settings,
    shell,
    tasks,
)
from kimaki.bot.commands.base import KimakiTree, answer_later, reply
from kimaki.bot.commands.dynamic import GuildCommands
from kimaki.bot.commands.kit import Kit
from kimaki.bot.commands.projects import ProjectDeps
from kimaki.bot.commands.queue import QueueDeps
from kimaki.bot.commands.session import SessionDeps
from kimaki.bot.commands.settings import SettingsDeps
from kimaki.bot.commands.tasks import TasksDeps, register_task_items

__all__ = [
    "GuildCommands",
    "KimakiTree",
    "Kit",
    "ProjectDeps",
    "QueueDeps",
    "SessionDeps",
    "SettingsDeps",
    "TasksDeps",
    "answer_later",
    "register_commands",
    "reply",
]

KIT_GROUPS = (model, agent, branches, history, info, shell)


def register_commands(
    tree: app_commands.CommandTree[discord.Client],
    *,
    projects_deps: ProjectDeps,
    session_deps: SessionDeps,
    settings_deps: SettingsDeps,
    kit: Kit,
    queue_deps: QueueDeps | None = None,
    tasks_deps: TasksDeps | None = None,
) -> None:
    """Add every group's commands to the tree (before the bot places them in guilds)."""
    components = tree.components if isinstance(tree, KimakiTree) else None
    for command in [
        *projects.group.build(projects_deps),
        *session.group.build(session_deps),
        *settings.group.build(settings_deps),
        *(queue.group.build(queue_deps) if queue_deps is not None else []),
        *(tasks.group.build(tasks_deps) if tasks_deps is not None else []),
        *(c for module in KIT_GROUPS for c in module.group.build(kit, components)),
    ]:
        tree.add_command(command)
    if tasks_deps is not None:
        register_task_items(tree.client, tasks_deps)
