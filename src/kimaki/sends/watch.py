"""How each `kimaki send` turn ended, read from OpenCode and recorded once.

A send's prompt carries the `<discord-user/>` tag with the send message's id, so its
user message is found in the session whatever path it took (straight to OpenCode, or
through kimaki's queue behind a busy turn). Its turn is over when the newest
assistant reply to that message ends the turn (`MessageInfo.ends_turn`): answered
with that reply's text, or failed with the reply's error. A permission of the session
that expired unanswered during the turn fails it too. A prompt OpenCode refused
before it became a message (an unknown model or agent) shows only as `session.error`:
with the session idle and still no user message a moment later, the send fails with
that error. A prompt kimaki's queue dropped unsent (its message deleted, /clear-queue,
the session gone) fails the send at once.

Events only say when to look (per session, coalesced); a slow poll is the net for a
missed event, and at start every send still `prompted` is watched again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.events import EventStream, Resync, StreamItem, Subscription
from kimaki.opencode.models import Message, MessageUpdated, SessionErrored
from kimaki.opencode.rest import OpenCodeClient
from kimaki.origin import message_origin
from kimaki.store import DiscordMessageID, PromptState, SendRecord, SendState, SessionID, Store
from kimaki.util import background_task

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGES = 10
POLL_SECONDS = 10.0
REFUSED_GRACE = 2.0
"""After a `session.error`, how long a prompt may still take to appear as a message."""
TURN_EVENTS = ("session.idle", "session.status", "session.error", "message.updated")
DROPPED = (
    "its prompt left kimaki's queue unsent (its message was deleted, /clear-queue, "
    "or the session is gone)"
)


@dataclass(frozen=True)
class Outcome:
    state: SendState
    text: str


Finished = Callable[[DiscordMessageID], None]


class SendWatcher:
    def __init__(
        self,
        store: Store,
        opencode: OpenCodeClient,
        events: EventStream,
        *,
        on_finished: Finished,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.store = store
        self.opencode = opencode
        self.events = events
        self.on_finished = on_finished
        self.poll = poll
        self._active: defaultdict[SessionID, set[DiscordMessageID]] = defaultdict(set)
        self._checking: dict[SessionID, asyncio.Task[None]] = {}
        self._again: set[SessionID] = set()
        self._errors: dict[SessionID, str] = {}
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for record in self.store.sends.in_state(SendState.PROMPTED):
            if record.session_id is not None:
                self._active[record.session_id].add(record.message_id)
        self._subscription = self.events.subscribe()
        self._tasks = [
            background_task.start(self._listen(self._subscription), name="send-watch"),
            background_task.start(self._poll(), name="send-poll"),
        ]
        for session_id in list(self._active):
            self.check_soon(session_id)

    async def stop(self) -> None:
        for task in [*self._tasks, *self._checking.values()]:
            task.cancel()
        for task in [*self._tasks, *self._checking.values()]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._subscription is not None:
            self._subscription.close()

    def watch(self, message_id: DiscordMessageID, session_id: SessionID) -> None:
        """The send's prompt went in: learn how its turn ends."""
        self._active[session_id].add(message_id)
        self.check_soon(session_id)

    @property
    def watched(self) -> int:
        return sum(len(ids) for ids in self._active.values())

    # --- when to look

    async def _listen(self, subscription: Subscription) -> None:
        async for item in subscription:
            try:
                self._on_event(item)
            except Exception:
                log.exception("send watch: could not handle %r", item)

    def _on_event(self, item: StreamItem) -> None:
        if isinstance(item, Resync):
            for watched in list(self._active):
                self.check_soon(watched)
            return
        session_id = item.session_id
        if session_id is None and isinstance(item, MessageUpdated) and item.info is not None:
            session_id = item.info.session_id or None
        if session_id is None or session_id not in self._active:
            return
        if isinstance(item, SessionErrored):
            error = item.run_error
            self._errors[session_id] = error.message if error is not None else "OpenCode error"
        if item.type in TURN_EVENTS:
            self.check_soon(session_id)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            for session_id in list(self._active):
                self.check_soon(session_id)

    def check_soon(self, session_id: SessionID) -> None:
        """Look at the session's sends (one look at a time; a request meanwhile adds one)."""
        running = self._checking.get(session_id)
        if running is not None and not running.done():
            self._again.add(session_id)
            return
        self._checking[session_id] = background_task.start(
            self._check_until_current(session_id), name=f"send-check-{session_id}"
        )

    async def _check_until_current(self, session_id: SessionID) -> None:
        self._again.add(session_id)
        while session_id in self._again:
            self._again.discard(session_id)
            try:
                await self._check(session_id)
            except OpenCodeError as exc:
                log.warning("send watch: cannot read session %s yet: %s", session_id, exc)
                return

    # --- the look

    async def _check(self, session_id: SessionID) -> None:
        ids = sorted(self._active.get(session_id, ()))
        records = [r for r in (self.store.sends.get(i) for i in ids) if r is not None]
        for record in records:
            if record.state is not SendState.PROMPTED:
                self._drop(session_id, record.message_id)
                continue
            outcome = await self.outcome(record)
            if outcome is None:
                continue
            self._drop(session_id, record.message_id)
            if self.store.sends.finish(record.message_id, outcome.state, outcome.text):
                log.info("send %s: %s", record.message_id, outcome.state.value)
                self.on_finished(record.message_id)

    def _drop(self, session_id: SessionID, message_id: DiscordMessageID) -> None:
        ids = self._active.get(session_id)
        if ids is not None:
            ids.discard(message_id)
            if not ids:
                del self._active[session_id]
                self._errors.pop(session_id, None)

    async def outcome(self, record: SendRecord) -> Outcome | None:
        """How the send's turn ended, or None while it has not."""
        if record.session_id is None or record.thread_id is None:
            return None
        thread = self.store.threads.get(record.thread_id)
        if thread is None:
            return Outcome(SendState.FAILED, "its thread is no longer known to kimaki")
        directory = str(thread.directory)
        messages = await self._messages_since(record, directory)
        mine = _prompt_of(messages, record.message_id)
        if mine is None:
            if self.store.queued_prompts.by_source(str(record.message_id)) is None:
                return Outcome(SendState.FAILED, DROPPED)
            return await self._refused(record, directory)
        replies = [m for m in messages if m.info.parent_id == mine.info.id]
        if not replies or not replies[-1].info.ends_turn:
            return None
        last = replies[-1]
        if last.info.error:
            return Outcome(SendState.FAILED, f"the turn failed: {_error_line(last)}")
        expired = self._expired_permission(record)
        if expired is not None:
            return Outcome(SendState.FAILED, expired)
        return Outcome(SendState.ANSWERED, last.text().strip())

    async def already_prompted(
        self, session_id: SessionID, directory: str, message_id: DiscordMessageID
    ) -> bool:
        """Whether the session holds the send's prompt (after a crash mid-send)."""
        page = await self.opencode.messages(session_id, directory, limit=PAGE_SIZE)
        return _prompt_of(page.messages, message_id) is not None

    async def _messages_since(self, record: SendRecord, directory: str) -> list[Message]:
        """The newest messages, paging back until the send's prompt is among them."""
        assert record.session_id is not None
        pages: list[Sequence[Message]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.opencode.messages(
                record.session_id, directory, limit=PAGE_SIZE, before=cursor
            )
            pages.append(page.messages)
            if _prompt_of(page.messages, record.message_id) is not None or not page.next_cursor:
                break
            cursor = page.next_cursor
        return [m for chunk in reversed(pages) for m in chunk]

    async def _refused(self, record: SendRecord, directory: str) -> Outcome | None:
        """No user message yet: queued (wait), or refused by OpenCode (a session.error)."""
        assert record.session_id is not None
        error = self._errors.get(record.session_id)
        if error is None:
            return None
        await asyncio.sleep(REFUSED_GRACE)
        status = await self.opencode.status(directory)
        current = status.get(record.session_id)
        if current is not None and current.is_busy:
            return None
        if await self.already_prompted(record.session_id, directory, record.message_id):
            return None
        return Outcome(SendState.FAILED, f"OpenCode refused the prompt: {error}")

    def _expired_permission(self, record: SendRecord) -> str | None:
        """A permission of this session that nobody answered during the turn."""
        for prompt in self.store.prompts.in_session(record.session_id or SessionID("")):
            if prompt.state is PromptState.EXPIRED and prompt.created_at >= record.updated_at:
                return (
                    f"a permission ({prompt.content.splitlines()[0][:200]}) was not answered "
                    "in time and was denied"
                )
        return None


def _prompt_of(messages: Sequence[Message], message_id: DiscordMessageID) -> Message | None:
    wanted = str(message_id)
    for message in messages:
        origin = message_origin(message)
        if origin is not None and origin.message_id == wanted:
            return message
    return None


def _error_line(message: Message) -> str:
    name = message.info.error_name or "error"
    text = message.info.error_message
    line = f"{name}: {text}" if text else name
    return " ".join(line.split())[:500]
