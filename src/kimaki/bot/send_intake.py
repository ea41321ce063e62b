"""What an admitted `kimaki send` message does: the prompt path a person's message takes.

The bot sees its own send message over the gateway (within a second of the post),
the start-up sweep finds one the CLI recorded while kimaki was stopped, the scheduler
hands over the one it just posted. Whichever comes first claims it in the `sends`
ledger, and only that one runs it: in a project channel it starts a session and its
thread from the message (`Sessions.start_from_message`), in a session's thread it
prompts that session, held in kimaki's queue behind a busy turn (`Sessions.follow_up`). Same access
rule (the gate admitted it), same queue, same rendering as a person's message.

A send claimed before a crash is resumed, not repeated: the thread its message
started is found and kept, and a prompt the path already took (held or sent; it keys
prompts by message id) is not taken twice.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from kimaki.bot.gate import Gate
from kimaki.bot.send_report import SendReporter
from kimaki.sends.format import PROMPT_FILE, SendRequest, full_prompt, parse
from kimaki.sends.watch import SendWatcher
from kimaki.sessions import PromptSource, Sessions
from kimaki.store import (
    ChannelID,
    DiscordMessageID,
    SendRecord,
    SendState,
    Store,
    ThreadID,
    ThreadRecord,
)
from kimaki.store.db import now_ms
from kimaki.util import background_task

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
SWEEP_AGE_MS = 3_000
"""A send recorded by the CLI this long ago and not taken yet (its gateway copy missed)."""


class SendIntake:
    def __init__(
        self,
        store: Store,
        sessions: Sessions,
        client: discord.Client,
        gate: Gate,
        watcher: SendWatcher,
        reporter: SendReporter,
        *,
        sweep_every: float = SWEEP_SECONDS,
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.client = client
        self.gate = gate
        self.watcher = watcher
        self.reporter = reporter
        self.sweep_every = sweep_every
        self._sweeping: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Take what was sent while kimaki was stopped, then look again now and then."""
        self._sweeping = background_task.start(self._sweep_loop(), name="send-sweep")

    async def stop(self) -> None:
        if self._sweeping is not None:
            self._sweeping.cancel()

    async def take(self, message: discord.Message, *, resumed: bool = False) -> None:
        """Run the send `message` carries, if nobody has taken it yet."""
        request = parse(message)
        me = self.client.user
        if request is None or me is None or message.author.id != me.id:
            return  # another bot's send (another machine): not ours to run
        message_id = DiscordMessageID(message.id)
        if not resumed and not self.store.sends.claim(message_id, ChannelID(message.channel.id)):
            return
        refusal = await self._refusal(message)
        if refusal is not None:
            self._fail(message_id, refusal)
            return
        try:
            await self._run(message, request, resumed=resumed)
        except Exception as exc:
            log.exception("send %s failed", message.id)
            self._fail(message_id, f"kimaki could not run it: {type(exc).__name__}: {exc}")

    async def _run(self, message: discord.Message, request: SendRequest, *, resumed: bool) -> None:
        message_id = DiscordMessageID(message.id)
        log.info("send %s from %s in %s", message.id, request.host, message.channel.id)
        if request.notify_only:
            self.store.sends.finish(message_id, SendState.NOTIFIED, None)
            self.reporter.kick()
            return
        request = await full_prompt(message, request)
        source = PromptSource(
            words=request.prompt,
            author_name=f"kimaki send ({request.host})",
            thread_name=request.thread_name,
            agent=request.agent,
            model=request.model_ref,
            not_files=(PROMPT_FILE,),
        )
        record = await self._prompt(message, source)
        if record is None:
            return
        self.store.sends.prompted(message_id, record.thread_id, record.session_id)
        self.watcher.watch(message_id, record.session_id)

    async def _prompt(self, message: discord.Message, source: PromptSource) -> ThreadRecord | None:
        message_id = DiscordMessageID(message.id)
        channel = message.channel
        if isinstance(channel, discord.Thread):
            record = self._live(ThreadID(channel.id))
            if record is None:
                self._fail(message_id, "this thread is not a session thread of this kimaki")
                return None
        else:
            project = self.store.projects.get(ChannelID(channel.id))
            if project is None:
                self._fail(message_id, "this channel is not a project channel of this kimaki")
                return None
            # A thread this send started before a crash takes its id.
            record = self._live(ThreadID(message.id))
            if record is None:
                started = await self.sessions.start_from_message(message, project, source)
                if started is None:
                    self._fail(message_id, "the session did not start (the thread says why)")
                return started
        # A resumed send whose prompt was taken before is taken again as a repeat (the
        # prompt path keys prompts by message id), so it is never sent twice.
        if not await self.sessions.follow_up(message, record, source):
            self._fail(message_id, "the prompt did not reach OpenCode (the thread says why)")
            return None
        return record

    async def _refusal(self, message: discord.Message) -> str | None:
        """Why the gate refuses this send (it is this bot's own), or None to run it."""
        guild = message.guild or await self._guild_of(message.channel.id)
        decision = self.gate.decide_send(guild)
        return None if decision else decision.reason

    async def _guild_of(self, channel_id: int) -> discord.Guild | None:
        """The server of a channel (a message the scheduler just posted names none)."""
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        return getattr(channel, "guild", None)

    def _live(self, thread_id: ThreadID) -> ThreadRecord | None:
        record = self.store.threads.get(thread_id)
        return None if record is None or record.deleted else record

    def _fail(self, message_id: DiscordMessageID, reason: str) -> None:
        log.warning("send %s failed: %s", message_id, reason)
        if self.store.sends.finish(message_id, SendState.FAILED, reason):
            self.reporter.kick()

    # --- sends recorded by the CLI (or claimed before a crash) that no gateway copy brought

    async def _sweep_loop(self) -> None:
        await self.sweep(resume=True)
        while True:
            await asyncio.sleep(self.sweep_every)
            try:
                await self.sweep(resume=False)
            except Exception:
                log.exception("send sweep failed")

    async def sweep(self, *, resume: bool) -> None:
        """Take recorded sends nobody took; with `resume`, finish those a crash cut off."""
        cutoff = now_ms() - (0 if resume else SWEEP_AGE_MS)
        for record in self.store.sends.in_state(SendState.POSTED):
            if record.created_at <= cutoff:
                await self._fetch_and_take(record, resumed=False)
        if resume:
            for record in self.store.sends.in_state(SendState.CLAIMED):
                await self._fetch_and_take(record, resumed=True)

    async def _fetch_and_take(self, record: SendRecord, *, resumed: bool) -> None:
        try:
            channel = self.client.get_channel(record.channel_id)
            if channel is None:
                channel = await self.client.fetch_channel(record.channel_id)
            message = None
            if isinstance(channel, discord.TextChannel | discord.Thread):
                message = await channel.fetch_message(record.message_id)
        except discord.NotFound:
            message = None
        except discord.HTTPException as exc:
            log.warning("cannot fetch send %s yet: %s", record.message_id, exc)
            return
        me = self.client.user
        if message is None or (me is not None and message.author.id != me.id):
            self.store.sends.claim(record.message_id, record.channel_id)
            why = "is gone" if message is None else "was posted by another bot"
            self._fail(record.message_id, f"its message {why}, so this kimaki does not run it")
            return
        await self.take(message, resumed=resumed)
