"""What /model, /agent and the quick agent commands share: where a choice applies (the
place and its scope), and the models and agents OpenCode offers there.

The default scope is the session in a thread and the channel in a project channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from kimaki.bot.commands.base import project_of, reply, thread_of
from kimaki.bot.commands.kit import Kit, need_project
from kimaki.discord_limits import CHOICES_LIMIT, NAME_LIMIT
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import Agent, Model, ModelRef
from kimaki.prompt_options import target_of
from kimaki.store import ChannelID, Project, Scope, SessionID

CLEAR = "clear"
SCOPE_CHOICES = [
    app_commands.Choice(name="this session", value=Scope.SESSION.value),
    app_commands.Choice(name="this channel", value=Scope.CHANNEL.value),
    app_commands.Choice(name="global (every project)", value=Scope.GLOBAL.value),
]
SCOPE_WORDS = {
    Scope.SESSION: "this session",
    Scope.CHANNEL: "this channel",
    Scope.GLOBAL: "every project (global)",
}


@dataclass(frozen=True)
class Place:
    """Where a choice is made: a project, and the session if in its thread."""

    project: Project
    session_id: SessionID | None

    @property
    def channel_id(self) -> ChannelID:
        return self.project.channel_id

    @property
    def directory(self) -> str:
        return str(self.project.directory)

    @property
    def default_scope(self) -> Scope:
        return Scope.SESSION if self.session_id else Scope.CHANNEL

    def target(self, scope: Scope) -> str:
        return target_of(scope, self.session_id, self.channel_id)

    def arg(self, scope: Scope) -> str:
        """The place of a choice, as a component id carries it."""
        return f"{scope.value}:{self.target(scope)}"


def place_of(kit: Kit, interaction: discord.Interaction) -> Place | None:
    project = project_of(kit.store, interaction)
    if project is None:
        return None
    record = thread_of(kit.store, interaction)
    return Place(project, record.session_id if record else None)


async def scoped(
    kit: Kit, interaction: discord.Interaction, command: str, scope: str | None
) -> tuple[Place, Scope] | None:
    """The place and scope a command means; else say why not (and return None)."""
    if await need_project(kit, interaction, command) is None:
        return None
    place = place_of(kit, interaction)
    assert place is not None
    chosen = Scope(scope) if scope else place.default_scope
    if chosen is Scope.SESSION and place.session_id is None:
        await reply(
            interaction,
            f"/{command} for a session works in its thread; here use the scope "
            "`this channel` or `global`",
        )
        return None
    return place, chosen


def from_arg(kit: Kit, interaction: discord.Interaction, arg: str) -> tuple[Place, Scope] | None:
    scope_text, _, target = arg.partition(":")
    place = place_of(kit, interaction)
    if place is None or scope_text not in {s.value for s in Scope}:
        return None
    scope = Scope(scope_text)
    if scope is Scope.SESSION:
        place = Place(place.project, SessionID(target))
    return place, scope


async def model_choices(
    kit: Kit, interaction: discord.Interaction, current: str, *, with_clear: bool
) -> list[app_commands.Choice[str]]:
    """Models OpenCode can use here whose name holds what was typed (and `clear`)."""
    place = place_of(kit, interaction)
    if place is None:
        return []
    try:
        catalog = await kit.opencode.providers(place.directory)
    except OpenCodeError:
        return []
    wanted = current.strip().lower()
    choices = []
    if with_clear and CLEAR.startswith(wanted):
        choices.append(app_commands.Choice(name="clear (drop this scope's choice)", value=CLEAR))
    for candidate in catalog.models():
        label = model_label(candidate)
        if wanted in label.lower() and len(str(candidate.ref)) <= NAME_LIMIT:
            choices.append(app_commands.Choice(name=label, value=str(candidate.ref)))
    return choices[:CHOICES_LIMIT]


async def agent_choices(
    kit: Kit, interaction: discord.Interaction, current: str, *, with_clear: bool
) -> list[app_commands.Choice[str]]:
    """OpenCode's primary agents here whose name holds what was typed (and `clear`)."""
    place = place_of(kit, interaction)
    if place is None:
        return []
    try:
        offered = await selectable_agents(kit, place.directory)
    except OpenCodeError:
        return []
    wanted = current.strip().lower()
    choices = []
    if with_clear and CLEAR.startswith(wanted):
        choices.append(app_commands.Choice(name="clear (drop this scope's choice)", value=CLEAR))
    for item in offered:
        label = f"{item.name} — {item.description}" if item.description else item.name
        if wanted in label.lower():
            choices.append(app_commands.Choice(name=label[:NAME_LIMIT], value=item.name))
    return choices[:CHOICES_LIMIT]


async def known_model(kit: Kit, directory: str, text: str) -> ModelRef | str:
    """`text` as a model OpenCode has here; else why not, in one line."""
    ref = parse_model(text)
    if ref is None:
        return f"`{text}` is not a model: write provider/model, or pick one from the list"
    if (await kit.opencode.providers(directory)).model(ref) is None:
        return f"OpenCode has no model `{ref}`; pick one from the list"
    return ref


async def known_agent(kit: Kit, directory: str, name: str) -> str | None:
    """Why `name` is not a primary agent here, or None when it is."""
    names = [a.name for a in await selectable_agents(kit, directory)]
    if name in names:
        return None
    return f"OpenCode has no primary agent `{name}` here (it has: {', '.join(names)})"


async def current_model(kit: Kit, place: Place) -> ModelRef | None:
    chosen = kit.options.chosen(place.session_id, place.channel_id)
    return chosen.model or await kit.options.default_model(place.directory)


def model_label(model: Model) -> str:
    ref = str(model.ref)
    return (f"{ref} — {model.name}" if model.name and model.name != ref else ref)[:NAME_LIMIT]


def parse_model(text: str) -> ModelRef | None:
    try:
        return ModelRef.parse(text)
    except ValueError:
        return None


async def selectable_agents(kit: Kit, directory: str) -> list[Agent]:
    return [a for a in await kit.opencode.agents(directory) if a.selectable]
