"""Slash commands made from OpenCode: `/<agent>-agent [prompt]` for each primary agent and
`/<name>-cmd [arguments]` for each OpenCode command, skill and MCP prompt.

They are made per server, from the agents and commands of its projects' directories
(`kimaki.bot.catalog`), in a fixed priority order within Discord's 100 commands per
server: kimaki's own commands first, then agents, commands, skills and MCP prompts; what
does not fit is logged. A command used where its project lacks that agent or command
says so.

- `/<agent>-agent` switches the agent (of the session in a thread, of the channel in a
  project channel); with a prompt it sends it (in a project channel, to a new session).
- `/<name>-cmd` runs the command in the thread's session, or in a new thread when used
  in a project channel. It takes the path prompts take (`Sessions.prompt`): held while
  a turn runs, then run as a turn of its own (`kimaki.turns.command`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import discord
from discord import app_commands

from kimaki.bot.catalog import CommandCatalog
from kimaki.bot.commands.base import AnyCommand, answer_later, project_of, reply, thread_of
from kimaki.bot.commands.branches import start_session
from kimaki.bot.commands.choices import SCOPE_WORDS, known_agent
from kimaki.bot.commands.kit import Kit, author_of, need_project, new_thread, prompt_in
from kimaki.store import GuildID, Project, Scope

log = logging.getLogger(__name__)

GUILD_COMMAND_LIMIT = 100
"""Discord's limit of chat commands per server."""
NAME_MAX = 32
DESCRIPTION_MAX = 100
AGENT_SUFFIX = "-agent"
COMMAND_SUFFIX = "-cmd"
SOURCE_ORDER = {"command": 0, "skill": 1, "mcp": 2}

Kind = Literal["agent", "command"]


@dataclass(frozen=True)
class Spec:
    """One slash command to make: its Discord name, and the agent or command it runs."""

    kind: Kind
    name: str
    target: str
    description: str


def slash_name(name: str, suffix: str) -> str | None:
    """`name` as a Discord command name ending in `suffix` (None if nothing is left)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    slug = slug[: NAME_MAX - len(suffix)].rstrip("-_")
    return f"{slug}{suffix}" if slug else None


def _description(text: str, fallback: str) -> str:
    line = " ".join(text.split()) or fallback
    return line if len(line) <= DESCRIPTION_MAX else line[: DESCRIPTION_MAX - 1] + "…"


def specs_for(catalog: CommandCatalog, projects: Sequence[Project]) -> list[Spec]:
    """Every command the server's projects offer, in priority order, one per name."""
    agents: dict[str, Spec] = {}
    commands: dict[str, tuple[int, int, Spec]] = {}
    for project in projects:
        known = catalog.of(str(project.directory))
        for agent in known.agents:
            name = slash_name(agent.name, AGENT_SUFFIX)
            if name and name not in agents:
                text = _description(agent.description, f"switch to the {agent.name} agent")
                agents[name] = Spec("agent", name, agent.name, text)
        for command in known.commands:
            name = slash_name(command.name, COMMAND_SUFFIX)
            if name and name not in commands:
                label = {"skill": "skill", "mcp": "MCP prompt"}.get(command.source, "command")
                text = _description(command.description, f"OpenCode's {label} /{command.name}")
                order = (SOURCE_ORDER.get(command.source, len(SOURCE_ORDER)), len(commands))
                commands[name] = (*order, Spec("command", name, command.name, text))
    ranked = sorted(commands.values(), key=lambda entry: entry[:2])
    return [*agents.values(), *(spec for _, _, spec in ranked if spec.name not in agents)]


class GuildCommands:
    """The OpenCode-made commands of each server, rebuilt only when their specs change."""

    def __init__(
        self, kit: Kit, catalog: CommandCatalog, builtin: Callable[[], Sequence[str]]
    ) -> None:
        self.kit = kit
        self.catalog = catalog
        self.builtin = builtin
        self._made: dict[int, tuple[tuple[Spec, ...], tuple[AnyCommand, ...]]] = {}

    def __call__(self, guild: discord.Guild) -> tuple[AnyCommand, ...]:
        taken = set(self.builtin())
        wanted = [
            s
            for s in specs_for(self.catalog, self.kit.store.projects.all(GuildID(guild.id)))
            if s.name not in taken
        ]
        room = max(0, GUILD_COMMAND_LIMIT - len(taken))
        fitting = tuple(wanted[:room])
        made = self._made.get(guild.id)
        if made is not None and made[0] == fitting:
            return made[1]
        left_out = wanted[room:]
        if left_out:
            log.warning(
                "%d OpenCode commands do not fit Discord's %d per server in %r: %s",
                len(left_out),
                GUILD_COMMAND_LIMIT,
                guild.name,
                ", ".join(f"/{s.name}" for s in left_out),
            )
        commands = tuple(make_command(self.kit, spec) for spec in fitting)
        self._made[guild.id] = (fitting, commands)
        return commands


def make_command(kit: Kit, spec: Spec) -> AnyCommand:
    if spec.kind == "agent":

        @app_commands.describe(prompt="send this with the agent (optional)")
        async def agent(interaction: discord.Interaction, prompt: str | None = None) -> None:
            await quick_agent(kit, interaction, spec, prompt)

        return app_commands.Command(name=spec.name, description=spec.description, callback=agent)

    @app_commands.describe(arguments="what the command gets as $ARGUMENTS (optional)")
    async def command(interaction: discord.Interaction, arguments: str | None = None) -> None:
        await run_command(kit, interaction, spec, arguments or "")

    return app_commands.Command(name=spec.name, description=spec.description, callback=command)


# --- /<agent>-agent


async def quick_agent(
    kit: Kit, interaction: discord.Interaction, spec: Spec, prompt: str | None
) -> None:
    project = await need_project(kit, interaction, spec.name)
    if project is None:
        return
    record = thread_of(kit.store, interaction)
    text = (prompt or "").strip()
    if record is None and isinstance(interaction.channel, discord.Thread):
        await reply(interaction, _not_a_session(spec))
    elif record is None and text:
        work = start_session(kit, interaction, project, text, agent=spec.target)
        await answer_later(interaction, work, ephemeral=False)
    else:
        work = _switch(kit, interaction, project, spec, text)
        await answer_later(interaction, work, ephemeral=False)


def _not_a_session(spec: Spec) -> str:
    return f"/{spec.name} works in a project channel or its session threads"


async def _switch(
    kit: Kit, interaction: discord.Interaction, project: Project, spec: Spec, text: str
) -> str:
    directory = str(project.directory)
    if refused := await known_agent(kit, directory, spec.target):
        return refused
    record = thread_of(kit.store, interaction)
    if record is None:
        kit.options.set_agent(Scope.CHANNEL, str(project.channel_id), spec.target)
        return f"the agent for {SCOPE_WORDS[Scope.CHANNEL]} is now `{spec.target}`"
    kit.options.set_agent(Scope.SESSION, record.session_id, spec.target)
    switched = f"the agent for {SCOPE_WORDS[Scope.SESSION]} is now `{spec.target}`"
    if not text:
        return switched
    bridge = kit.bridges.for_record(record)
    sent = await prompt_in(kit, bridge, text, author_of(interaction))
    return f"{switched}; sent your prompt" if sent else f"{switched}; the prompt did not go out"


# --- /<name>-cmd


async def run_command(
    kit: Kit, interaction: discord.Interaction, spec: Spec, arguments: str
) -> None:
    project = project_of(kit.store, interaction)
    if project is None:
        await need_project(kit, interaction, spec.name)
        return
    record = thread_of(kit.store, interaction)
    if record is None and isinstance(interaction.channel, discord.Thread):
        await reply(interaction, _not_a_session(spec))
        return
    work = _start_command(kit, interaction, project, spec, arguments)
    await answer_later(interaction, work, ephemeral=False)


async def _start_command(
    kit: Kit, interaction: discord.Interaction, project: Project, spec: Spec, arguments: str
) -> str:
    directory = str(project.directory)
    names = {c.name for c in await kit.opencode.commands(directory)}
    if spec.target not in names:
        return f"OpenCode has no command /{spec.target} in this project"
    record = thread_of(kit.store, interaction)
    if record is not None:
        bridge = kit.bridges.for_record(record)
        where = "this session"
    else:
        made = await new_thread(kit, interaction, project, f"/{spec.target} {arguments}".strip())
        if isinstance(made, str):
            return made
        bridge = made
        where = f"<#{made.thread_id}>"
    taken = await kit.sessions.prompt(
        bridge, arguments, author_of(interaction), command=spec.target
    )
    if not taken:
        return f"OpenCode's /{spec.target} was sent already"
    return f"OpenCode's /{spec.target} goes to {where}"
