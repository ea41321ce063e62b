"""/agent: show or choose the agent prompts use (OpenCode's primary agents).

Like /model: stored per scope, named by every later prompt; without options it shows the
current agent, where it comes from, and a menu; `clear` drops a scope's choice.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    Answer,
    AnyCommand,
    CommandGroup,
    Components,
    answer_later,
    button,
    in_time,
    reply,
    select,
    view_of,
)
from kimaki.bot.commands.choices import (
    CLEAR,
    SCOPE_CHOICES,
    SCOPE_WORDS,
    Place,
    agent_choices,
    from_arg,
    known_agent,
    scoped,
    selectable_agents,
)
from kimaki.bot.commands.kit import Kit
from kimaki.discord_limits import NAME_LIMIT
from kimaki.store import Scope

group: CommandGroup[Kit] = CommandGroup()

# --- /agent


@group.command
def agent_command(kit: Kit) -> AnyCommand:
    @app_commands.command(name="agent", description="Show or choose the agent prompts use")
    @app_commands.describe(
        agent="one of OpenCode's primary agents (or clear)",
        scope="whose agent: this session (in a thread), this channel, or global",
    )
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def agent(
        interaction: discord.Interaction, agent: str | None = None, scope: str | None = None
    ) -> None:
        found = await scoped(kit, interaction, "agent", scope)
        if found is None:
            return
        place, chosen = found
        if agent is None:
            await answer_later(interaction, show_agent(kit, place, chosen))
            return
        await answer_later(interaction, choose_agent(kit, place, chosen, agent), ephemeral=False)

    @agent.autocomplete("agent")
    async def agents(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await in_time(agent_choices(kit, interaction, current, with_clear=True))

    return agent


async def _describe_agent(kit: Kit, place: Place) -> str:
    chosen = kit.options.chosen(place.session_id, place.channel_id)
    current = chosen.agent or await kit.options.default_agent(place.directory)
    return f"agent `{current}`, from {chosen.agent_source.value}"


async def show_agent(kit: Kit, place: Place, scope: Scope) -> Answer:
    text = await _describe_agent(kit, place)
    offered = await selectable_agents(kit, place.directory)
    options = [
        discord.SelectOption(
            label=a.name[:NAME_LIMIT], value=a.name, description=a.description[:NAME_LIMIT] or None
        )
        for a in offered
        if len(a.name) <= NAME_LIMIT
    ]
    items: list[discord.ui.Item[Any]] = []
    if options:
        items.append(select("agent", place.arg(scope), options, f"agent for {SCOPE_WORDS[scope]}"))
    override = kit.options.override(scope, place.target(scope))
    if override is not None and override.agent:
        items.append(button("agent-clear", place.arg(scope), f"Clear ({SCOPE_WORDS[scope]})"))
    return Answer(text, view=view_of(*items) if items else None)


async def choose_agent(kit: Kit, place: Place, scope: Scope, agent: str) -> str:
    target = place.target(scope)
    where = SCOPE_WORDS[scope]
    if agent.strip().lower() == CLEAR:
        cleared = kit.options.clear_agent(scope, target)
        what = "cleared the agent chosen for" if cleared else "no agent was chosen for"
        return f"{what} {where}; prompts here use {await _describe_agent(kit, place)}"
    refused = await known_agent(kit, place.directory, agent)
    if refused is not None:
        return refused
    kit.options.set_agent(scope, target, agent)
    return f"the agent for {where} is now `{agent}`, from the next prompt on"


@group.components
def agent_components(kit: Kit, components: Components) -> None:
    async def picked(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        found = from_arg(kit, interaction, arg)
        if found is None or not values:
            await reply(interaction, "this menu no longer fits this place; run /agent again")
            return
        place, scope = found
        await answer_later(interaction, choose_agent(kit, place, scope, values[0]), ephemeral=False)

    async def cleared(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        found = from_arg(kit, interaction, arg)
        if found is None:
            await reply(interaction, "this button no longer fits this place; run /agent again")
            return
        place, scope = found
        await answer_later(interaction, choose_agent(kit, place, scope, CLEAR), ephemeral=False)

    components.handle("agent", picked)
    components.handle("agent-clear", cleared)
