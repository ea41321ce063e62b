"""The discord.py client: connects, places slash commands, routes messages.

Routing only: what Discord delivers goes to the `Routes` given at construction (every
decision about a session lives below, in `kimaki.sessions`, `kimaki.asks` and
`kimaki.bridges`); every access decision is `kimaki.bot.gate`'s (trust, then the access
rule), which also stands in front of every interaction. Background work (the OpenCode
event stream, the outbox, the event router) is started from `setup_hook` (`Routes.startup`),
as discord.py intends, so it runs on the client's loop and is up before the first event.

Slash commands are registered only in served guilds; a guild that becomes served
(`kimaki guild allow`) gets them within `trust_poll` seconds, one that stops being
served loses them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from kimaki.bot.commands import KimakiTree
from kimaki.bot.commands.base import AnyCommand
from kimaki.bot.commands.queue import SendNowButton
from kimaki.bot.gate import Gate, GatedState
from kimaki.bot.marks import ChannelMarks
from kimaki.bot.prompts_ui import PromptActions, register_prompt_items
from kimaki.bot.trust import Trust
from kimaki.config import Config
from kimaki.sends.format import send_embed
from kimaki.store import ChannelID, DiscordMessageID, Store, ThreadID
from kimaki.turns import Turns
from kimaki.util import background_task

log = logging.getLogger(__name__)

MessageHandler = Callable[[discord.Message], Awaitable[None]]


@dataclass(frozen=True)
class Routes:
    """Where the client hands what Discord delivers, after the gate admitted it."""

    project_message: MessageHandler
    """A message in a project channel."""
    thread_message: MessageHandler
    """A message in a bound thread."""
    thread_deleted: Callable[[ThreadID], Awaitable[None]]
    """Someone deleted a thread (any thread: the handler knows which are bound)."""
    startup: Callable[[], Awaitable[None]]
    """Start the background work (from `setup_hook`, once logged in)."""
    prompt_actions: Callable[[], PromptActions]
    """What prompt buttons, menus and forms do (clicks work across restarts)."""
    gateway_ready: Callable[[], Awaitable[None]] | None = None
    """A new gateway session began (READY, not a resume): messages may have been missed."""
    retry_missed: Callable[[], None] | None = None
    """A message failed (the store locked, a bug): read missed messages again soon."""
    guild_commands: Callable[[discord.Guild], Sequence[AnyCommand]] = lambda guild: ()
    """The commands a served guild gets beside kimaki's own (made from OpenCode's lists,
    already within Discord's 100 per guild); the same objects while nothing changed."""
    send_message: MessageHandler | None = None
    """A message this bot posted itself carrying a `kimaki send` (the intake decides)."""
    message_edited: MessageHandler | None = None
    """A message in a bound thread was edited, by someone the gate admits."""
    message_deleted: Callable[[DiscordMessageID], Awaitable[None]] | None = None
    """A message in a bound thread was deleted."""


def intents() -> discord.Intents:
    """Guild messages with their content; no members or presences (not needed)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


TRUST_POLL_SECONDS = 5.0


class KimakiBot(discord.Client):
    def __init__(
        self,
        config: Config,
        store: Store,
        routes: Routes,
        *,
        trust_poll: float = TRUST_POLL_SECONDS,
        **options: Any,
    ) -> None:
        # Before discord.Client.__init__: it builds the connection state (`_get_state`),
        # which holds the gate.
        self.trust = Trust(store)
        self.gate = Gate(self.trust, allow_all_users=config.allow_all_users)
        options.setdefault("guild_ready_timeout", 0.5)
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.config = config
        self.store = store
        self.routes = routes
        self.tree = KimakiTree(self)
        self.connected = asyncio.Event()
        self.marks = ChannelMarks(store)
        self.turns: Turns | None = None
        """The prompt path, for /queue's Send now buttons (set when kimaki is wired)."""
        register_prompt_items(self)
        self.add_dynamic_items(SendNowButton)
        self.trust_poll = trust_poll
        self._served: dict[int, bool] = {}
        self._placed: dict[int, tuple[tuple[str, str], ...]] = {}
        self._watching_trust: asyncio.Task[None] | None = None

    def _get_state(self, **options: Any) -> GatedState:
        return GatedState(
            self.gate,
            dispatch=self.dispatch,
            handlers=self._handlers,
            hooks=self._hooks,
            http=self.http,
            **options,
        )

    @property
    def prompt_actions(self) -> PromptActions:
        return self.routes.prompt_actions()

    async def setup_hook(self) -> None:
        if self.application is not None:
            self.trust.learn(self.application)
        await self.routes.startup()

    async def on_ready(self) -> None:
        await self.place_commands()
        if self._watching_trust is None:
            self._watching_trust = background_task.start(self._watch_trust(), name="trust")
        self.connected.set()
        if self.routes.gateway_ready is not None:
            await self.routes.gateway_ready()

    async def close(self) -> None:
        if self._watching_trust is not None:
            self._watching_trust.cancel()
        await super().close()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._place_commands_in(guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self._served.pop(guild.id, None)
        self._placed.pop(guild.id, None)
        self.trust.forget_note(guild.id)

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None and message.author.id == self.user.id:
            if self.routes.send_message is not None and send_embed(message) is not None:
                await self.routes.send_message(message)
            return
        if message.guild is None:
            return
        handler = self._handler_for(message.channel)
        if handler is None:
            return
        # Taken once, whether live or by the catch-up of missed messages; the channel's
        # mark moves past it once it (and every earlier message) is done.
        if not self.marks.claim(message.channel.id, message.id):
            return
        try:
            await self._handle(message, handler)
        except Exception:
            # Not handled: the mark stays below it, and the next catch-up takes it.
            self.marks.release(message.channel.id, message.id)
            log.exception("message %s in %s failed; it is tried again", message.id, message.channel)
            if self.routes.retry_missed is not None:
                self.routes.retry_missed()
        else:
            self.marks.done(message.channel.id, message.id)

    def _handler_for(self, channel: discord.abc.Messageable) -> MessageHandler | None:
        """The route for a project channel or a bound, live thread; None elsewhere."""
        if isinstance(channel, discord.Thread):
            record = self.store.threads.get(ThreadID(channel.id))
            if record is None or record.deleted:
                return None
            return self.routes.thread_message
        if not isinstance(channel, discord.TextChannel):
            return None
        if self.store.projects.get(ChannelID(channel.id)) is None:
            return None
        return self.routes.project_message

    async def _handle(self, message: discord.Message, handler: MessageHandler) -> None:
        if message.author.bot:
            return
        decision = self.gate.decide(message.author, message.guild)
        if decision.quiet:
            return  # a server kimaki does not serve: not a word there
        if not decision:
            await self._refuse(message, decision.reason)
            return
        await handler(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edit changes what a held message will say (only its author can edit it, and
        only if the gate still admits them)."""
        message = payload.message
        handler = self.routes.message_edited
        if handler is None or message.author.bot:
            return
        if not self._in_bound_thread(payload.channel_id):
            return
        if not self.gate.decide(message.author, message.guild):
            return
        await handler(message)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A deleted message that kimaki holds is not sent."""
        handler = self.routes.message_deleted
        if handler is not None and self._in_bound_thread(payload.channel_id):
            await handler(DiscordMessageID(payload.message_id))

    def _in_bound_thread(self, channel_id: int) -> bool:
        record = self.store.threads.get(ThreadID(channel_id))
        return record is not None and not record.deleted

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
        await self.routes.thread_deleted(ThreadID(payload.thread_id))

    async def _refuse(self, message: discord.Message, reason: str) -> None:
        log.info("refused %s (%s): %s", message.author, message.author.id, reason)
        try:
            await message.reply(f"⬦ kimaki: {reason}.", mention_author=False, silent=True)
        except discord.HTTPException as exc:
            log.warning("could not tell %s why they were refused: %s", message.author, exc)

    # --- slash commands follow trust

    async def place_commands(self) -> None:
        """Register commands where kimaki now serves, remove them where it no longer does."""
        for guild in list(self.guilds):
            await self._place_commands_in(guild)

    async def _watch_trust(self) -> None:
        while True:
            await asyncio.sleep(self.trust_poll)
            try:
                await self.place_commands()
            except Exception:
                log.exception("could not update slash commands after a trust change")

    async def _place_commands_in(self, guild: discord.Guild) -> None:
        """kimaki's own commands and those made from OpenCode where served, none elsewhere;
        synced again only when that changes."""
        served = self.trust.serves(guild)
        extra = list(self.routes.guild_commands(guild)) if served else []
        placed = tuple((c.name, c.description) for c in extra)
        if self._served.get(guild.id) == served and self._placed.get(guild.id) == placed:
            return
        if self._served.get(guild.id) != served:
            if served:
                self.trust.forget_note(guild.id)
                log.info("serving the server %r (%s)", guild.name, guild.id)
            else:
                self.trust.note_unserved(guild)
        self._served[guild.id] = served
        self._placed[guild.id] = placed
        self.tree.clear_commands(guild=guild)
        if served:
            self.tree.copy_global_to(guild=guild)
            for command in extra:
                self.tree.add_command(command, guild=guild, override=True)
        try:
            await self.tree.sync(guild=guild)  # guild commands appear at once, global ones late
        except discord.HTTPException as exc:
            self._served.pop(guild.id, None)  # try again at the next look
            log.warning("could not update slash commands in %s: %s", guild.name, exc)
