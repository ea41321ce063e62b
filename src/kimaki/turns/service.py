"""The one path every prompt takes to OpenCode, and kimaki's own queue in front of it.

`submit` stores the prompt first (`queued_prompts`), then, under the session's lock,
looks at who runs the session's turn (`busy.look`):

- nobody: it is sent at once, together with anything still waiting for the thread;
- the shared server (kimaki's turn, or another client's): it waits, its Discord message
  marked with a reaction. An interrupt (`!now …`, or /queue's Send now) aborts the
  turn, waits for the session to stop, and sends that prompt alone, at once;
- a separate OpenCode process: it waits too; kimaki cannot stop that process, and says
  so in the thread, once per turn.

Waiting prompts are sent when the turn ends, **all together as one prompt**, oldest
first, each with its own words, files and tag: a person who writes several messages
while the agent works is adding to one request, one turn answers them with the whole
picture, and OpenCode's own queue does the same with prompts it holds. The drain runs
when the router sees a session go idle and, as a safety net (and for other processes,
which send no events), every `poll` seconds while anything waits.

Nothing is sent twice: rows go `queued` → `sending` → `sent`, and a row a crash left
`sending` is settled by looking for its tag in the session before anything else is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kimaki.bridge import ThreadBridge
from kimaki.bridges import Bridges, lock_is_free
from kimaki.opencode.errors import NotFound, OpenCodeError, OpenCodeHTTPError
from kimaki.origin import message_origins
from kimaki.prompt_options import PromptOptions
from kimaki.store import (
    QueuedPrompt,
    QueuedPromptID,
    QueueState,
    SessionID,
    ThreadID,
    synthetic_key,
)
from kimaki.store.db import now_ms
from kimaki.util import background_task

from . import prompt as rows
from .busy import BUSY_CUTOFF, Look, Running, look
from .command import run_command
from .compose import Composer, model_of, notice
from .hint import upload_command, upload_hint
from .marks import Marks
from .prompt import Prompt

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
STOP_WAIT = 15.0
"""How long an interrupt waits for the aborted turn to stop before sending anyway."""
KEEP_SENT_MS = 7 * 24 * 3600 * 1000


class Outcome:
    SENT = "sent"
    QUEUED = "queued"
    REPEATED = "repeated"
    """The same source was submitted before (a repeated delivery): nothing done."""


@dataclass(frozen=True)
class TurnSettings:
    files_dir: Path
    """Where attachments are saved (per session)."""
    upload_data_dir: Path | None = None
    """The data dir to name in the `kimaki upload` instruction (None: the default one)."""
    poll: float = POLL_SECONDS
    cutoff: float = BUSY_CUTOFF


class Turns:
    def __init__(
        self,
        bridges: Bridges,
        settings: TurnSettings,
        *,
        marks: Marks,
        options: PromptOptions | None = None,
    ) -> None:
        self.bridges = bridges
        self.ctx = bridges.ctx
        self.store = bridges.ctx.store
        self.settings = settings
        self.marks = marks
        self.options = options or PromptOptions(self.store, self.ctx.opencode)
        self._locks: defaultdict[SessionID, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.composer = Composer(bridges.ctx.opencode)

    # --- lifecycle

    def start(self) -> None:
        self._task = background_task.start(self._run(), name="turns")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def prune_locks(self, _idle_after: float) -> int:
        """Forget per-session locks nobody holds (retention's memory sweep); how many."""
        free = [s for s, lock in self._locks.items() if lock_is_free(lock)]
        for session_id in free:
            del self._locks[session_id]
        return len(free)

    def poke(self) -> None:
        """A turn may have ended: look at the waiting prompts now."""
        self._wake.set()

    async def _run(self) -> None:
        self.store.queued_prompts.forget_sent(now_ms() - KEEP_SENT_MS)
        while True:
            await self.drain()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll)

    async def drain(self) -> None:
        """Send what waits, for every thread whose session is free (one pass)."""
        for thread_id in self.store.queued_prompts.threads_waiting():
            try:
                await self._drain_thread(thread_id)
            except OpenCodeError as exc:
                log.info("queue of thread %s waits: OpenCode: %s", thread_id, exc)
            except Exception:
                log.exception("queue of thread %s: unexpected failure", thread_id)
        for row in self.store.queued_prompts.marked_sent():
            await self._unmark(row)

    # --- the one prompt path

    async def submit(self, bridge: ThreadBridge, prompt: Prompt) -> str:
        """Send `prompt` to the thread's session now, or hold it until the turn ends."""
        record = bridge.record
        row = self.store.queued_prompts.add(
            record.thread_id,
            record.session_id,
            prompt.source,
            author_id=prompt.author_id,
            author_name=prompt.author_name,
            text=prompt.text,
            extras=prompt.extras(),
            interrupt=prompt.interrupt,
        )
        if row is None:
            return Outcome.REPEATED
        async with self._locks[record.session_id]:
            try:
                await self._settle_sending(bridge)
                seen = await self._look(bridge)
                if row.interrupt and seen.running is Running.SERVER:
                    seen = await self._stop_turn(bridge, row.author_name)
            except NotFound:
                await self._session_gone(bridge)
                return Outcome.QUEUED
            except OpenCodeError as exc:
                await self._hold(bridge, row, None)
                self._unreachable(bridge, row.source, exc)
                return Outcome.QUEUED
            if seen.running is Running.NO:
                batch = [row] if row.interrupt else rows.next_batch(self._queued(record.thread_id))
                sent = await self._send(bridge, batch, seen)
                if sent and row.id in {r.id for r in batch}:
                    return Outcome.SENT
            await self._hold(bridge, row, seen)
            return Outcome.QUEUED

    async def send_now(self, thread_id: ThreadID, prompt_id: int, who: str) -> str:
        """/queue's Send now: stop the running turn and send this prompt alone."""
        bridge = self.bridges.get(thread_id)
        row = self.store.queued_prompts.get(QueuedPromptID(prompt_id))
        if bridge is None or row is None or row.thread_id != thread_id:
            return "that message is no longer queued"
        async with self._locks[bridge.record.session_id]:
            row = self.store.queued_prompts.get(row.id)
            if row is None or row.state is not QueueState.QUEUED:
                return "that message was sent already"
            seen = await self._look(bridge)
            if seen.running is Running.ELSEWHERE:
                return (
                    "the turn runs in another OpenCode process (a terminal), which kimaki "
                    "cannot stop; the message stays queued and goes when that turn ends"
                )
            if seen.running is Running.SERVER:
                seen = await self._stop_turn(bridge, who)
            if await self._send(bridge, [row], seen):
                return "sent now"
            return "OpenCode did not take it; it stays queued"

    def waiting(self, thread_id: ThreadID) -> list[QueuedPrompt]:
        """What the thread holds, oldest first (for /queue)."""
        return self.store.queued_prompts.waiting(thread_id)

    async def clear(self, thread_id: ThreadID) -> int:
        """/clear-queue: drop everything the thread still holds; how many."""
        dropped = self.store.queued_prompts.drop_all(thread_id)
        for row in dropped:
            if row.marked:
                await self._unmark_message(row)
        return len(dropped)

    def edited(self, source: str, text: str) -> bool:
        """The queued message was edited: its new words are what will be sent."""
        return self.store.queued_prompts.set_text(source, text)

    async def deleted(self, source: str) -> bool:
        """The queued message was deleted: it is not sent."""
        return self.store.queued_prompts.drop(source) is not None

    # --- draining

    async def _drain_thread(self, thread_id: ThreadID) -> None:
        bridge = self.bridges.get(thread_id)
        if bridge is None:  # the thread is gone: nobody will read an answer
            self.store.queued_prompts.drop_all(thread_id)
            return
        async with self._locks[bridge.record.session_id]:
            try:
                await self._settle_sending(bridge)
                batch = rows.next_batch(self._queued(thread_id))
                if not batch:
                    return
                seen = await self._look(bridge)
            except NotFound:
                await self._session_gone(bridge)
                return
            if seen.running is Running.NO:
                await self._send(bridge, batch, seen)

    def _queued(self, thread_id: ThreadID) -> list[QueuedPrompt]:
        waiting = self.store.queued_prompts.waiting(thread_id)
        return [r for r in waiting if r.state is QueueState.QUEUED]

    async def _settle_sending(self, bridge: ThreadBridge) -> None:
        """Rows a crash left `sending`: sent if their tag is in the session, else queued."""
        sending = [
            r
            for r in self.store.queued_prompts.waiting(bridge.thread_id)
            if r.state is QueueState.SENDING
        ]
        if not sending:
            return
        record = bridge.record
        page = await self.ctx.opencode.messages(record.session_id, str(record.directory), limit=50)
        arrived = {o.message_id for m in page.messages for o in message_origins(m)}
        # A command carries no tag; it is not run twice (at most once, like OpenCode's own).
        sent = [r.id for r in sending if r.source in arrived or rows.command_of(r)]
        self.store.queued_prompts.mark_sent(sent)
        self.store.queued_prompts.back_to_queue([r.id for r in sending if r.id not in sent])

    async def _look(self, bridge: ThreadBridge) -> Look:
        record = bridge.record
        return await look(
            self.ctx.opencode,
            record.session_id,
            str(record.directory),
            cutoff=self.settings.cutoff,
        )

    async def _stop_turn(self, bridge: ThreadBridge, who: str) -> Look:
        """Abort the shared server's turn and wait (a while) until the session stops."""
        record = bridge.record
        log.info("thread %s: %s interrupts the running turn", record.thread_id, who)
        await self.ctx.opencode.abort(record.session_id, str(record.directory))
        self._notice(
            bridge,
            synthetic_key("interrupt", f"{record.thread_id}-{now_ms()}"),
            f"{who} interrupted the running turn; their message goes now",
        )
        deadline = time.monotonic() + STOP_WAIT
        while True:
            seen = await self._look(bridge)
            if seen.running is not Running.SERVER or time.monotonic() > deadline:
                return seen
            await asyncio.sleep(0.2)

    async def _hold(self, bridge: ThreadBridge, row: QueuedPrompt, seen: Look | None) -> None:
        """The prompt waits: mark its message; for another process, say why once a turn."""
        current = self.store.queued_prompts.get(row.id)
        if current is None or current.state is not QueueState.QUEUED:
            return
        message = rows.message_of(current)
        if message is not None and await self.marks.mark(*message):
            self.store.queued_prompts.set_marked(current.id, True)
        if seen is not None and seen.running is Running.ELSEWHERE:
            prompts = [m for m in seen.messages if m.info.role == "user"]
            turn = prompts[-1].info.id if prompts else "turn"
            self._notice(
                bridge,
                synthetic_key("queued-elsewhere", turn),
                "queued: this session's turn runs in another OpenCode process (a terminal), "
                "which kimaki cannot interrupt; your message goes when that turn ends",
            )

    # --- sending

    async def _send(self, bridge: ThreadBridge, batch: Sequence[QueuedPrompt], seen: Look) -> bool:
        """Send `batch` as one prompt; whether OpenCode took it (else it stays queued)."""
        if not batch:
            return True
        record = bridge.record
        ids = [r.id for r in batch]
        self.store.queued_prompts.begin_sending(ids)
        try:
            choice = rows.own_choice(
                batch,
                await self.options.for_prompt(
                    record.session_id, record.channel_id, str(record.directory)
                ),
            )
            command = rows.command_of(batch[0])
            if command is not None:
                self.store.queued_prompts.mark_sent(ids)  # at most once: never sent again
                await run_command(bridge, batch[0], command, choice, on_end=self.poke)
                return True
            parts = await self.composer.parts(bridge, batch, choice.model or model_of(seen))
            upload = upload_command(record.session_id, self.settings.upload_data_dir)
            await self.ctx.opencode.prompt_async(
                record.session_id,
                str(record.directory),
                parts,
                agent=choice.agent,
                model=choice.model_pair,
                variant=choice.variant,
                system=upload_hint(upload),
            )
        except OpenCodeError as exc:
            return await self._not_taken(bridge, batch, exc, batch[0].source)
        self.store.queued_prompts.mark_sent(ids)
        bridge.set_busy(True)
        bridge.wake()
        for row in batch:
            if row.marked:
                await self._unmark(row)
        return True

    async def _not_taken(
        self,
        bridge: ThreadBridge,
        batch: Sequence[QueuedPrompt],
        exc: OpenCodeError,
        source: str,
    ) -> bool:
        """OpenCode did not take `batch` (or could not be asked about `source`'s turn)."""
        ids = [r.id for r in batch]
        if isinstance(exc, OpenCodeHTTPError) and 400 <= exc.status < 500:
            log.warning("thread %s: OpenCode refused a prompt: %s", bridge.thread_id, exc)
            self.store.queued_prompts.mark_sent(ids)  # never again: it would be refused again
            self._notice(
                bridge,
                synthetic_key("refused", source),
                f"OpenCode refused this message ({exc}); it was not sent",
                notify=True,
            )
            return True
        self.store.queued_prompts.back_to_queue(ids)
        self._unreachable(bridge, source, exc)
        return False

    def _unreachable(self, bridge: ThreadBridge, source: str, exc: OpenCodeError) -> None:
        log.warning("thread %s: prompt not sent yet: %s", bridge.thread_id, exc)
        self._notice(
            bridge,
            synthetic_key("unreachable", source),
            "OpenCode is not reachable right now; your message is queued and goes when it is",
        )

    async def _session_gone(self, bridge: ThreadBridge) -> None:
        """OpenCode no longer has the session (deleted): nothing held can be sent."""
        dropped = await self.clear(bridge.thread_id)
        log.warning(
            "thread %s: session is gone; dropped %d held prompt(s)", bridge.thread_id, dropped
        )
        self._notice(
            bridge,
            synthetic_key("session-gone", str(bridge.thread_id)),
            "OpenCode no longer has this session; messages written here are not sent",
            notify=True,
        )

    # --- marks and notices

    async def _unmark(self, row: QueuedPrompt) -> None:
        if await self._unmark_message(row):
            self.store.queued_prompts.set_marked(row.id, False)

    async def _unmark_message(self, row: QueuedPrompt) -> bool:
        message = rows.message_of(row)
        return message is None or await self.marks.unmark(*message)

    def _notice(self, bridge: ThreadBridge, key: str, text: str, *, notify: bool = False) -> None:
        notice(bridge, key, text, notify=notify)
