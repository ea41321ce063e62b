"""What every command module shares: the registry, where a command ran, how it answers.

Access is not checked in any command: `kimaki.bot.gate` refuses an interaction before
the command tree sees it. A command that calls OpenCode or Discord acknowledges first
(`answer_later`): Discord allows 3 seconds, and OpenCode may take longer. Replies to a
command are interaction responses (Discord ties them to the command); everything that
mirrors a session still goes through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import discord
from discord import app_commands

from kimaki.discord_limits import CHOICES_LIMIT, MESSAGE_LIMIT, PLACEHOLDER_LIMIT
from kimaki.opencode.errors import OpenCodeError
from kimaki.store import ChannelID, Project, Store, ThreadID, ThreadRecord

log = logging.getLogger(__name__)

AnyCommand = app_commands.Command[Any, ..., Any]
D = TypeVar("D")
C = TypeVar("C")

AUTOCOMPLETE_SECONDS = 2.5
"""Discord drops an autocomplete answer after 3 seconds: a slower lookup offers nothing."""


class CommandGroup(Generic[D]):
    """The commands of one module, each made by a function of the module's dependencies.

    Adding a command is one function decorated with `@group.command` in its module.
    """

    def __init__(self) -> None:
        self._makers: list[Callable[[D], AnyCommand]] = []
        self._handlers: list[Callable[[D, Components], None]] = []

    def command(self, make: Callable[[D], AnyCommand]) -> Callable[[D], AnyCommand]:
        self._makers.append(make)
        return make

    def components(
        self, register: Callable[[D, Components], None]
    ) -> Callable[[D, Components], None]:
        """Registers what the menus and buttons of this module's answers do."""
        self._handlers.append(register)
        return register

    def build(self, deps: D, components: Components | None = None) -> list[AnyCommand]:
        if components is not None:
            for register in self._handlers:
                register(deps, components)
        return [make(deps) for make in self._makers]


class KimakiTree(app_commands.CommandTree[discord.Client]):
    """The command tree, with the one error handler every command shares, and the
    handlers of the menus and buttons commands answer with."""

    def __init__(self, client: discord.Client) -> None:
        super().__init__(client)
        self.components = Components()
        client.add_dynamic_items(CommandSelect, CommandButton)

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Log it, and say it in one line where it ran."""
        name = interaction.command.qualified_name if interaction.command else "?"
        log.error("/%s failed", name, exc_info=error)
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        text = f"⬦ /{name} failed: {type(cause).__name__}: {cause}"[:MESSAGE_LIMIT]
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(content=text)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not report the failure of /%s: %s", name, exc)


# --- where a command was used


def project_of(store: Store, interaction: discord.Interaction) -> Project | None:
    """The project of the channel (or of the thread's channel) the command ran in."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return store.projects.get(ChannelID(channel.parent_id))
    if channel is None:
        return None
    return store.projects.get(ChannelID(channel.id))


def thread_of(store: Store, interaction: discord.Interaction) -> ThreadRecord | None:
    """The session thread the command ran in, if it ran in one."""
    channel = interaction.channel
    if not isinstance(channel, discord.Thread):
        return None
    record = store.threads.get(ThreadID(channel.id))
    return None if record is None or record.deleted else record


# --- answering


@dataclass(frozen=True)
class Answer:
    """What a command shows: one line, and maybe files or components."""

    text: str
    files: Sequence[discord.File] = ()
    view: discord.ui.View | None = field(default=None, compare=False)


async def answer_later(
    interaction: discord.Interaction, work: Awaitable[str | Answer], *, ephemeral: bool = True
) -> None:
    """Acknowledge now (Discord allows 3 s), then show what `work` says, or why it failed."""
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    try:
        result = await work
    except OpenCodeError as exc:
        result = f"could not reach OpenCode: {exc}"
    except discord.HTTPException as exc:
        result = f"Discord refused it: {exc.text or exc.status}"
    answer = result if isinstance(result, Answer) else Answer(result)
    content = f"⬦ {answer.text}"[:MESSAGE_LIMIT]
    if answer.view is not None:
        await interaction.edit_original_response(
            content=content, attachments=list(answer.files), view=answer.view
        )
    else:
        await interaction.edit_original_response(content=content, attachments=list(answer.files))


async def reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer once; a second answer to one interaction becomes a follow-up."""
    content = f"⬦ {text}"
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral)


# --- components of command answers (menus and buttons), working across restarts

ComponentHandler = Callable[[discord.Interaction, str, list[str]], Awaitable[None]]
"""What a pick or click does: given the interaction, the id's argument and the values."""

_SELECT_ID = r"kimaki:c:(?P<kind>[a-z][a-z-]*):(?P<arg>[^\s]*)"
_BUTTON_ID = r"kimaki:b:(?P<kind>[a-z][a-z-]*):(?P<arg>[^\s]*)"


class Components:
    """Handlers of command components by kind. A menu's `custom_id` is
    `kimaki:c:<kind>:<arg>`, a button's `kimaki:b:<kind>:<arg>`, so one posted before a
    restart still works (no state in memory)."""

    def __init__(self) -> None:
        self._handlers: dict[str, ComponentHandler] = {}

    def handle(self, kind: str, handler: ComponentHandler) -> None:
        self._handlers[kind] = handler

    def get(self, kind: str) -> ComponentHandler | None:
        return self._handlers.get(kind)


def component_id(kind: str, arg: str = "", *, prefix: str = "c") -> str:
    custom_id = f"kimaki:{prefix}:{kind}:{arg}"
    pattern = _SELECT_ID if prefix == "c" else _BUTTON_ID
    if len(custom_id) > 100 or not re.fullmatch(pattern, custom_id):
        raise ValueError(f"not a usable component id: {custom_id!r}")
    return custom_id


async def _dispatch(
    interaction: discord.Interaction, kind: str, arg: str, values: list[str]
) -> None:
    tree = getattr(interaction.client, "tree", None)
    handler = tree.components.get(kind) if isinstance(tree, KimakiTree) else None
    if handler is None:
        await reply(interaction, "kimaki does not know this menu any more; run the command again")
        return
    await handler(interaction, arg, values)


class CommandSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=_SELECT_ID):
    def __init__(self, select: discord.ui.Select[Any], kind: str, arg: str) -> None:
        super().__init__(select)
        self.kind = kind
        self.arg = arg

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CommandSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item, match["kind"], match["arg"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _dispatch(interaction, self.kind, self.arg, list(self.item.values))


class CommandButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_BUTTON_ID):
    def __init__(self, button: discord.ui.Button[Any], kind: str, arg: str) -> None:
        super().__init__(button)
        self.kind = kind
        self.arg = arg

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CommandButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match["kind"], match["arg"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _dispatch(interaction, self.kind, self.arg, [])


def select(
    kind: str, arg: str, options: Sequence[discord.SelectOption], placeholder: str
) -> CommandSelect:
    menu: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=component_id(kind, arg),
        placeholder=placeholder[:PLACEHOLDER_LIMIT],
        options=list(options)[:CHOICES_LIMIT],
    )
    return CommandSelect(menu, kind, arg)


def button(
    kind: str, arg: str, label: str, style: discord.ButtonStyle = discord.ButtonStyle.secondary
) -> CommandButton:
    item: discord.ui.Button[Any] = discord.ui.Button(
        label=label[:80], style=style, custom_id=component_id(kind, arg, prefix="b")
    )
    return CommandButton(item, kind, arg)


def view_of(*items: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


async def in_time(work: Awaitable[list[C]]) -> list[C]:
    """Autocomplete choices if they come within Discord's time, else none (an answer that
    comes late is refused by Discord and logged as an error by discord.py)."""
    try:
        return await asyncio.wait_for(work, AUTOCOMPLETE_SECONDS)
    except TimeoutError:
        log.info("autocomplete took over %g s; offering nothing", AUTOCOMPLETE_SECONDS)
        return []
