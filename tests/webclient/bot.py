"""A small real discord.py bot for the web client's tests and the demo screenshot.

It answers a few trigger messages with what the page must draw (a code block, buttons and
selects, a thread, typing), registers guild commands with choices, autocomplete, a modal, a
deferred and an ephemeral answer, and records everything it received so tests can check that
what the page did reached the bot.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands

from discord_twin import Twin
from discord_twin.pytest_plugin import client_kwargs

Interaction = discord.Interaction[discord.Client]
LANGUAGES = ["python", "pycon", "rust", "ruby", "go", "typescript"]
CODE_REPLY = "Here it is:\n```python\ndef greet(name):\n    return f'hi {name}'\n```\nDone."


@dataclass
class Received:
    """What reached the bot, for the tests' assertions."""

    messages: list[discord.Message] = field(default_factory=list)
    clicks: list[str] = field(default_factory=list)
    picks: list[tuple[str, list[str]]] = field(default_factory=list)
    modals: list[dict[str, str]] = field(default_factory=list)
    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    autocomplete: list[str] = field(default_factory=list)


class DenyModal(discord.ui.Modal, title="Tell kimaki why"):
    reason: discord.ui.TextInput[DenyModal] = discord.ui.TextInput(
        label="Reason", custom_id="reason", placeholder="what should change?"
    )
    details: discord.ui.TextInput[DenyModal] = discord.ui.TextInput(
        label="Details", custom_id="details", style=discord.TextStyle.paragraph, required=False
    )

    def __init__(self, received: Received) -> None:
        super().__init__()
        self.received = received

    async def on_submit(self, interaction: Interaction) -> None:
        values = {"reason": self.reason.value, "details": self.details.value}
        self.received.modals.append(values)
        await interaction.response.send_message(f"⬦ denied: {self.reason.value}")


class Controls(discord.ui.View):
    """A button row, a single select and a multi select, like kimaki's prompts."""

    def __init__(self, received: Received) -> None:
        super().__init__(timeout=None)
        self.received = received

    @discord.ui.button(label="Accept", style=discord.ButtonStyle.success, custom_id="accept")
    async def accept(self, interaction: Interaction, button: discord.ui.Button[Controls]) -> None:
        self.received.clicks.append("accept")
        await interaction.response.send_message("⬥ accepted")

    @discord.ui.button(label="Deny…", style=discord.ButtonStyle.danger, custom_id="deny")
    async def deny(self, interaction: Interaction, button: discord.ui.Button[Controls]) -> None:
        self.received.clicks.append("deny")
        await interaction.response.send_modal(DenyModal(self.received))

    @discord.ui.select(
        custom_id="model",
        placeholder="Pick a model",
        options=[
            discord.SelectOption(label="fast", description="quick answers"),
            discord.SelectOption(label="smart", description="careful answers"),
        ],
    )
    async def model(self, interaction: Interaction, select: discord.ui.Select[Controls]) -> None:
        self.received.picks.append(("model", list(select.values)))
        await interaction.response.send_message(f"model: {select.values[0]}")

    @discord.ui.select(
        custom_id="tools",
        placeholder="Allowed tools",
        min_values=1,
        max_values=3,
        options=[discord.SelectOption(label=name) for name in ("read", "edit", "bash")],
    )
    async def tools(self, interaction: Interaction, select: discord.ui.Select[Controls]) -> None:
        self.received.picks.append(("tools", list(select.values)))
        await interaction.response.send_message(f"tools: {', '.join(select.values)}")


class WebBot(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(**client_kwargs())
        self.guild_id = guild_id
        self.received = Received()
        self.release = asyncio.Event()  # lets a deferred command finish when a test says so
        self.tree = app_commands.CommandTree(self)
        self._add_commands()

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=discord.Object(self.guild_id))

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None and message.author.id == self.user.id:
            return
        self.received.messages.append(message)
        text = message.content
        channel = message.channel
        assert isinstance(channel, discord.TextChannel | discord.Thread)
        if text == "code please":
            await channel.send(CODE_REPLY)
        elif text == "buttons please":
            await channel.send("Allow **bash**?", view=Controls(self.received))
        elif text == "typing please":
            await channel.typing()
        elif text.startswith("please fix") and isinstance(channel, discord.TextChannel):
            await self.post_thread(message)
        elif message.attachments:
            await self.echo_files(message)

    async def echo_files(self, message: discord.Message) -> None:
        """Send the first file back (so the page shows a bot's image) with a text file."""
        first = message.attachments[0]
        echo = discord.File(io.BytesIO(await first.read()), filename=f"echo-{first.filename}")
        notes = discord.File(io.BytesIO(b"line one\nline two\n"), filename="notes.txt")
        await message.channel.send(f"got {first.filename}", files=[echo, notes])

    async def post_thread(self, message: discord.Message) -> discord.Thread:
        """A thread like kimaki's: prose, a tool line, a code block, then a prompt."""
        thread = await message.create_thread(name="Fix the flaky test")
        await thread.send(
            "⬥ The test waits on a **fixed sleep**; I replaced it with a condition.\n"
            "┣ edit `tests/test_sync.py`\n◼︎ wrote `src/sync.py`\n"
            "```python\nawait until(lambda: job.done, timeout=5)\n```"
        )
        await thread.send("⨯ bash _exit 1_ · ⌛ waiting for you", view=Controls(self.received))
        return thread

    def _add_commands(self) -> None:
        guild = discord.Object(self.guild_id)
        received = self.received

        @self.tree.command(name="pick", description="Pick a fruit", guild=guild)
        @app_commands.choices(
            fruit=[app_commands.Choice(name=f.title(), value=f) for f in ("apple", "banana")]
        )
        async def pick(interaction: Interaction, fruit: app_commands.Choice[str]) -> None:
            received.commands.append(("pick", {"fruit": fruit.value}))
            await interaction.response.send_message(f"you picked {fruit.value}")

        @self.tree.command(name="find", description="Find a language", guild=guild)
        async def find(interaction: Interaction, language: str, count: int = 1) -> None:
            received.commands.append(("find", {"language": language, "count": count}))
            await interaction.response.send_message(f"found {language} ×{count}")

        @find.autocomplete("language")
        async def find_language(interaction: Interaction, current: str) -> list[Any]:
            received.autocomplete.append(current)
            return [
                app_commands.Choice(name=f"lang: {n}", value=n) for n in LANGUAGES if current in n
            ]

        @self.tree.command(name="secret", description="Answer only you can see", guild=guild)
        async def secret(interaction: Interaction) -> None:
            await interaction.response.send_message("a secret for you", ephemeral=True)

        @self.tree.command(name="slow", description="Think, then answer", guild=guild)
        async def slow(interaction: Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await self.release.wait()
            await interaction.edit_original_response(content="⬦ done thinking")

        @self.tree.command(name="feedback", description="Open a form", guild=guild)
        async def feedback(interaction: Interaction) -> None:
            await interaction.response.send_modal(DenyModal(received))


async def start_bot(twin: Twin) -> tuple[WebBot, asyncio.Task[None]]:
    """A ready bot on `twin` whose guild commands are registered."""
    from discord_twin.pytest_plugin import start_client

    assert twin.seed is not None
    bot = WebBot(twin.seed.guild.id)
    task = await start_client(twin, bot)
    return bot, task
