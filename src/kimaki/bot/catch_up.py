"""Missed messages: what people wrote while kimaki was stopped or disconnected, answered once.

At start, and after every gateway session that was not resumed, kimaki reads each
project channel and each bound thread active in the last 24 hours, after the newest
message it is done with there (the channel's mark, `bot.marks`), and hands each message
from someone allowed to the same route a live message takes, in order. A message older
than `--catch-up-window` gets a short "seen late" note instead of a run: an agent
starting on hours-old words surprises more than it helps.

Exactly once, even across a crash in the middle of a catch-up:

- the live path and the catch-up take a message through one claim (`ChannelMarks`), so
  a message arriving while the history is read is handled by one of them;
- the mark moves past a message only after it was handled;
- a message handled by an earlier run that died before moving the mark is recognised
  by kimaki's queue (held while a turn ran: its source is the message id) or by
  OpenCode's own record: every prompt kimaki sends carries the Discord message id in
  its `<discord-user/>` tag, and a message in a project channel gave its id to the
  thread it started. Such a message is passed over.
- A late note goes through the outbox (a key per message) in a thread, or as a reply
  with a nonce per message in a project channel.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import discord

from kimaki.bot.client import KimakiBot
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.rest import OpenCodeClient
from kimaki.origin import message_origin
from kimaki.outbox import Outbox
from kimaki.render import render_notice
from kimaki.store import Outgoing, Store, ThreadID, ThreadRecord, nonce_for, synthetic_key
from kimaki.util import background_task
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)

LOOKBACK = datetime.timedelta(hours=24)
"""Nothing older is read back (nor a thread idle longer than this looked at)."""
SESSION_LOOKBACK = 100
"""How many of a session's newest messages are searched for a prompt's tag."""
RETRY = Backoff(initial=5.0, maximum=120.0, jitter=0.2)
RETRIES = 8
"""A catch-up that could not finish (OpenCode or Discord unreachable) runs again."""

MessageRoute = Callable[[discord.Message], Awaitable[None]]
FollowUp = Callable[[discord.Message, ThreadRecord], Awaitable[object]]


@dataclass(frozen=True)
class CatchUpRoutes:
    """Where a missed message goes: the same places as a live one."""

    in_project: MessageRoute
    in_thread: MessageRoute
    prompt_thread: FollowUp
    """Prompt a thread's session with the message that started the thread (its session
    and thread were made, then kimaki stopped before the prompt went)."""


@dataclass
class CatchUpReport:
    channels: int = 0
    read: int = 0
    run: int = 0
    late: int = 0
    already: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    unfinished: bool = False
    """Some channel could not be read to its end (Discord or OpenCode trouble)."""


class CatchUp:
    def __init__(
        self,
        bot: KimakiBot,
        store: Store,
        opencode: OpenCodeClient,
        outbox: Outbox,
        routes: CatchUpRoutes,
        *,
        window_minutes: float,
        now: Callable[[], datetime.datetime] | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.opencode = opencode
        self.outbox = outbox
        self.routes = routes
        self.window = datetime.timedelta(minutes=window_minutes)
        self.now = now or (lambda: datetime.datetime.now(datetime.UTC))
        self._task: asyncio.Task[None] | None = None
        self._later: asyncio.Task[None] | None = None
        self._again = False
        self._members: dict[tuple[int, int], discord.Member | None] = {}
        self.runs = 0
        self.last: CatchUpReport | None = None

    # --- scheduling: one at a time; asked during one, one more after it

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = background_task.start(self._until_current(), name="catch-up-messages")

    def soon(self, delay: float = 30.0) -> None:
        """Run once more after `delay` seconds (a live message failed); coalesced."""
        if self._later is None or self._later.done():
            self._later = background_task.start(self._after(delay), name="catch-up-later")

    async def _after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.start()

    async def stop(self) -> None:
        if self._later is not None:
            self._later.cancel()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def wait(self) -> None:
        """Until no catch-up runs or is due (tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _until_current(self) -> None:
        self._again = True
        failures = 0
        while self._again:
            self._again = False
            report = await self.run()
            if report.unfinished:
                failures += 1
                if failures <= RETRIES:
                    await asyncio.sleep(RETRY.delay(failures))
                    self._again = True
            else:
                failures = 0

    # --- one pass

    async def run(self) -> CatchUpReport:
        report = CatchUpReport()
        self._members.clear()
        floor = discord.utils.time_snowflake(self.now() - LOOKBACK)
        for project in self.store.projects.all():
            channel = self.bot.get_channel(project.channel_id)
            if not isinstance(channel, discord.TextChannel):
                continue
            since = max(floor, _snowflake_ms(project.created_at))
            await self._channel(channel, since, None, report)
        for thread, record in await self._active_threads(floor):
            since = max(floor, _snowflake_ms(record.created_at))
            await self._channel(thread, since, record, report)
        self.runs += 1
        self.last = report
        if report.read:
            log.info(
                "missed messages: %d read in %d channels; %d run, %d seen late, "
                "%d handled before, %d passed over",
                report.read,
                report.channels,
                report.run,
                report.late,
                report.already,
                report.skipped,
            )
        return report

    async def _active_threads(self, floor: int) -> list[tuple[discord.Thread, ThreadRecord]]:
        guilds = {
            guild
            for project in self.store.projects.all()
            if (guild := self.bot.get_guild(project.guild_id)) is not None
        }
        found: list[tuple[discord.Thread, ThreadRecord]] = []
        for guild in guilds:
            try:
                threads = await guild.active_threads()
            except discord.HTTPException as exc:
                log.warning("missed messages: cannot list the threads of %s: %s", guild, exc)
                continue
            for thread in threads:
                record = self.store.threads.get(ThreadID(thread.id))
                if record is None or record.deleted:
                    continue
                if (thread.last_message_id or thread.id) < floor:
                    continue  # nothing written there in the last 24 hours
                found.append((thread, record))
        return sorted(found, key=lambda pair: pair[0].id)

    async def _channel(
        self,
        channel: discord.TextChannel | discord.Thread,
        since: int,
        record: ThreadRecord | None,
        report: CatchUpReport,
    ) -> None:
        marks = self.bot.marks
        mark = marks.mark(channel.id)
        after = max(since, mark or 0)
        last = channel.last_message_id
        if last is not None and last <= after:
            return  # nothing new: no request at all
        report.channels += 1
        delivered: set[str] | None = None
        try:
            async for message in channel.history(
                after=discord.Object(after), oldest_first=True, limit=None
            ):
                report.read += 1
                if not marks.claim(channel.id, message.id):
                    continue  # the live path has it
                try:
                    if record is not None and delivered is None:
                        delivered = await self._delivered(record)
                    await self._one(message, record, delivered, report)
                except OpenCodeError as exc:
                    # Not handled: it stays unclaimed below the mark and is tried again.
                    marks.release(channel.id, message.id)
                    report.unfinished = True
                    log.warning("missed messages in %s wait for OpenCode: %s", channel, exc)
                    return
                except Exception:
                    log.exception("missed message %s in %s failed", message.id, channel)
                    report.failed.append(str(message.id))
                marks.done(channel.id, message.id)
        except discord.HTTPException as exc:
            report.unfinished = True
            log.warning("missed messages: cannot read %s: %s", channel, exc)

    async def _one(
        self,
        message: discord.Message,
        record: ThreadRecord | None,
        delivered: set[str] | None,
        report: CatchUpReport,
    ) -> None:
        if message.author.bot or message.type not in _PROMPTS:
            return
        if not await self._allowed(message):
            report.skipped += 1
            return
        late = message.created_at < self.now() - self.window
        if record is None:
            await self._in_project(message, late, report)
            return
        if (delivered is not None and str(message.id) in delivered) or self._held(message):
            report.already += 1
            return
        if late:
            self._late_in_thread(record, message)
            report.late += 1
            return
        await self.routes.in_thread(message)
        report.run += 1

    async def _in_project(
        self, message: discord.Message, late: bool, report: CatchUpReport
    ) -> None:
        started = self.store.threads.get(ThreadID(message.id))
        if started is not None:  # it started a thread before kimaki stopped
            if (
                started.deleted
                or self._held(message)
                or str(message.id) in await self._delivered(started)
            ):
                report.already += 1
                return
            if late:
                self._late_in_thread(started, message)
                report.late += 1
                return
            await self.routes.prompt_thread(message, started)
            report.run += 1
            return
        if late:
            await self._late_reply(message)
            report.late += 1
            return
        await self.routes.in_project(message)
        report.run += 1

    def _held(self, message: discord.Message) -> bool:
        """Taken by the prompt path already: held in kimaki's queue (or sent from it)."""
        return self.store.queued_prompts.by_source(str(message.id)) is not None

    async def _allowed(self, message: discord.Message) -> bool:
        """The one access rule, with the author as a member (history carries users only)."""
        guild = message.guild
        author: discord.abc.User = message.author
        if guild is not None and not isinstance(author, discord.Member):
            key = (guild.id, author.id)
            if key not in self._members:
                self._members[key] = guild.get_member(author.id) or await _fetch_member(
                    guild, author
                )
            author = self._members[key] or author
        decision = self.bot.gate.decide(author, guild)
        if not decision:
            log.info(
                "missed message %s from %s passed over: %s", message.id, author, decision.reason
            )
        return bool(decision)

    async def _delivered(self, record: ThreadRecord) -> set[str]:
        """The Discord message ids the session's recent prompts came from."""
        try:
            page = await self.opencode.messages(
                record.session_id, str(record.directory), limit=SESSION_LOOKBACK
            )
        except OpenCodeError as exc:
            log.warning("missed messages: cannot read session %s: %s", record.session_id, exc)
            raise
        ids = set()
        for message in page.messages:
            origin = message_origin(message)
            if origin is not None and origin.message_id:
                ids.add(origin.message_id)
        return ids

    def _late_in_thread(self, record: ThreadRecord, message: discord.Message) -> None:
        text = render_notice(late_note(message, self.now()))
        key = synthetic_key("late", str(message.id))
        if self.store.enqueue(record.thread_id, None, [Outgoing(key, text, notify=False)]):
            self.outbox.kick(record.thread_id)

    async def _late_reply(self, message: discord.Message) -> None:
        nonce = nonce_for(ThreadID(message.channel.id), f"late:{message.id}")
        await message.reply(
            render_notice(late_note(message, self.now())),
            nonce=nonce,
            mention_author=False,
            silent=True,
        )


_PROMPTS = (discord.MessageType.default, discord.MessageType.reply)


def late_note(message: discord.Message, now: datetime.datetime) -> str:
    minutes = max(1, int((now - message.created_at).total_seconds() // 60))
    age = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
    return (
        f"seen late: this was written {age} ago while kimaki was not running, so it was "
        "not run; send it again to run it"
    )


async def _fetch_member(guild: discord.Guild, user: discord.abc.User) -> discord.Member | None:
    try:
        return await guild.fetch_member(user.id)
    except discord.HTTPException:
        return None  # left the server: not allowed


def _snowflake_ms(ms: int) -> int:
    return discord.utils.time_snowflake(datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC))
