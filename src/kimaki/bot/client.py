"""The discord.py client: connects, registers slash commands, routes messages.

Routing only: every decision about a session lives in `kimaki.sessions`, every access
decision in `kimaki.bot.access`. Background work (the OpenCode event stream, the
outbox, the sessions runtime) is started from `setup_hook`, as discord.py intends, so
it runs on the client's loop and is up before the first event arrives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from kimaki.bot.access import check
from kimaki.bot.prompts_ui import PromptActions, register_prompt_items
from kimaki.config import Config
from kimaki.store import ChannelID, Store, ThreadID

log = logging.getLogger(__name__)

MessageHandler = Callable[[discord.Message], Awaitable[None]]


def intents() -> discord.Intents:
    """Guild messages with their content; no members or presences (not needed)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


class KimakiBot(discord.Client):
    def __init__(self, config: Config, store: Store, **options: Any) -> None:
        options.setdefault("guild_ready_timeout", 0.5)
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.config = config
        self.store = store
        self.tree = app_commands.CommandTree(self)
        self.on_project_message: MessageHandler | None = None
        self.on_thread_message: MessageHandler | None = None
        self.on_startup: Callable[[], Awaitable[None]] | None = None
        self.connected = asyncio.Event()
        self.prompt_actions: PromptActions | None = None
        """What prompt buttons and menus do (`kimaki.asks.Asks`); clicks work across restarts."""
        register_prompt_items(self)

    async def setup_hook(self) -> None:
        if self.on_startup is not None:
            await self.on_startup()

    async def on_ready(self) -> None:
        await self._sync_commands()
        self.connected.set()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._sync_commands_to(guild)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None:
            return
        channel = message.channel
        if isinstance(channel, discord.Thread):
            record = self.store.threads.get(ThreadID(channel.id))
            if record is None or record.deleted:
                return
            handler = self.on_thread_message
        else:
            if self.store.projects.get(ChannelID(channel.id)) is None:
                return
            handler = self.on_project_message
        decision = check(message.author, allow_all_users=self.config.allow_all_users)
        if not decision:
            await self._refuse(message, decision.reason)
            return
        if handler is not None:
            await handler(message)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted project channel takes its project with it; everything else goes on."""
        project = self.store.projects.get(ChannelID(channel.id))
        if project is not None:
            self.store.projects.remove(project.channel_id)
            log.warning(
                "project channel #%s was deleted; forgot the project %s (add it again with "
                "kimaki project add)",
                channel.name,
                project.directory,
            )

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A user deleted a thread: its session is never mirrored into Discord again."""
        if self.store.threads.mark_deleted(ThreadID(payload.thread_id)):
            log.info("thread %s was deleted; its session will not be mirrored", payload.thread_id)

    async def _refuse(self, message: discord.Message, reason: str) -> None:
        log.info("refused %s (%s): %s", message.author, message.author.id, reason)
        try:
            await message.reply(f"⬦ kimaki: {reason}.", mention_author=False, silent=True)
        except discord.HTTPException as exc:
            log.warning("could not tell %s why they were refused: %s", message.author, exc)

    async def _sync_commands(self) -> None:
        for guild in self.guilds:
            await self._sync_commands_to(guild)

    async def _sync_commands_to(self, guild: discord.Guild) -> None:
        """Guild commands appear at once (global ones can take an hour on Discord)."""
        self.tree.copy_global_to(guild=guild)
        try:
            await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.warning("could not register slash commands in %s: %s", guild.name, exc)
