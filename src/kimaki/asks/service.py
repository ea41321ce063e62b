"""`Asks`: intake of permission and question events, their rows, timers and decisions.

See the package's docstring for the whole flow; this module never touches Discord.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from kimaki.asks.board import Controls, PermissionButtons, PromptBoard, QuestionMenus
from kimaki.asks.delivery import DECIDED, deliver_recorded, permission_reply
from kimaki.asks.lookup import thread_for
from kimaki.asks.reposts import Reposts
from kimaki.asks.texts import (
    answered_note,
    decision_note,
    elsewhere_note,
    expired_note,
    permission_text,
    question_text,
    timeout_message,
    with_note,
)
from kimaki.bridges import Bridges, lock_is_free
from kimaki.opencode.errors import NotFound, OpenCodeError
from kimaki.opencode.models import (
    Event,
    PermissionAsked,
    PermissionID,
    PermissionRequest,
    Question,
    QuestionAsked,
    QuestionID,
    QuestionRequest,
    SessionID,
)
from kimaki.store import PromptKind, PromptRecord, PromptState, ThreadID
from kimaki.util import background_task
from kimaki.util.inbox import Inbox

log = logging.getLogger(__name__)

UNBOUND_RETRY = 2.0
UNBOUND_PATIENCE = 180.0
REPLIED_EVENTS = ("permission.replied", "question.replied", "question.rejected")

Choose = Callable[[Question], list[str]]
"""Given the question (as OpenCode has it now), the labels a person chose."""


class Asks:
    def __init__(
        self,
        bridges: Bridges,
        board: PromptBoard,
        *,
        timeout_minutes: float,
        on_unbound_session: Callable[[], None] | None = None,
    ) -> None:
        """`on_unbound_session`: an ask came from a session with no thread yet (background
        sync may be about to make it: look now)."""
        self.bridges = bridges
        self.ctx = bridges.ctx
        self.board = board
        self.timeout_minutes = timeout_minutes
        self.on_unbound_session = on_unbound_session
        self._inboxes: dict[SessionID | None, Inbox[Event]] = {}
        self._thread_locks: defaultdict[ThreadID, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._question_locks: dict[str, asyncio.Lock] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._unbound: dict[str, float] = {}  # request id -> first seen (monotonic)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retry: asyncio.Task[None] | None = None
        self._reposts = Reposts(self.ctx.store, self.ask)
        self._delivering: set[str] = set()
        """Requests whose answer is being sent to OpenCode now (not to be sent twice)."""

    # --- lifecycle

    def start(self) -> None:
        self._spawn(self.refresh())

    async def stop(self) -> None:
        for inbox in list(self._inboxes.values()):
            await inbox.close()
        await self._reposts.stop()
        tasks = [*self._timers.values(), *self._tasks]
        if self._retry is not None:
            tasks.append(self._retry)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._timers.clear()

    def _spawn(self, work: Any) -> None:
        task = background_task.start(work, name="asks")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def prune_locks(self, _idle_after: float) -> int:
        """Forget per-thread and per-question locks nobody holds (retention); how many."""
        free = [t for t, lock in self._thread_locks.items() if lock_is_free(lock)]
        for thread_id in free:
            del self._thread_locks[thread_id]
        done = [
            q
            for q, lock in self._question_locks.items()
            if lock_is_free(lock) and not self._is_pending(q)
        ]
        for request_id in done:
            del self._question_locks[request_id]
        return len(free) + len(done)

    def _is_pending(self, request_id: str) -> bool:
        record = self.ctx.store.prompts.get(request_id)
        return record is not None and record.state is PromptState.PENDING

    # --- from OpenCode

    def take(self, item: Event) -> bool:
        """Queue the events that concern prompts, in order per session; whether it was one."""
        if not isinstance(item, PermissionAsked | QuestionAsked) and item.type not in (
            REPLIED_EVENTS
        ):
            return False
        session_id = item.session_id
        inbox = self._inboxes.get(session_id)
        if inbox is None:

            def forget() -> None:
                self._inboxes.pop(session_id, None)

            inbox = Inbox(self._handle, name=f"asks-{session_id}", on_idle=forget)
            self._inboxes[session_id] = inbox
        inbox.put(item)
        return True

    def resync(self) -> None:
        """Events were missed (the stream reconnected): read pending asks back."""
        self._spawn(self.refresh())

    async def _handle(self, item: Event) -> None:
        if isinstance(item, PermissionAsked | QuestionAsked):
            if item.request is not None:
                await self.ask(item.request)
            return
        request_id = item.properties.get("requestID")
        if isinstance(request_id, str):
            await self._answered_elsewhere(request_id)

    async def refresh(self) -> None:
        """Read pending asks back from OpenCode: post what is new, re-bind what was posted.

        A prompt still pending here that OpenCode no longer lists was answered
        elsewhere (or its session ended) while kimaki was not looking: say so.
        """
        listed: set[str] = set()
        looked: set[str] = set()
        directories = {p.directory.as_posix() for p in self.ctx.store.projects.all()}
        for directory in sorted(directories):
            try:
                permissions = await self.ctx.opencode.permissions(directory)
                questions = await self.ctx.opencode.questions(directory)
            except OpenCodeError as exc:
                log.warning("cannot read pending asks of %s: %s", directory, exc)
                continue
            looked.add(directory)
            requests: list[PermissionRequest | QuestionRequest] = [*permissions, *questions]
            for request in requests:
                listed.add(request.id)
                record = self.ctx.store.prompts.get(request.id)
                if record is not None and record.state in DECIDED:
                    # Decided here, but OpenCode still waits: a crash came in between.
                    await self._deliver_recorded(record)
                else:
                    await self.ask(request)
        for record in self.ctx.store.prompts.pending():
            if record.directory.as_posix() in looked and record.request_id not in listed:
                await self._answered_elsewhere(record.request_id)

    async def ask(self, request: PermissionRequest | QuestionRequest) -> None:
        """Post `request` in its session's thread, once (or re-bind the prompt posted before)."""
        thread = await thread_for(self.ctx.store, self.ctx.opencode, request.session_id)
        if thread is None:
            self._wait_for_thread(request.id)
            return
        self._unbound.pop(request.id, None)
        controls: Controls
        if isinstance(request, PermissionRequest):
            kind = PromptKind.PERMISSION
            group = "|".join(["perm", request.session_id, request.permission, *request.patterns])
            content = permission_text(request)
            controls = PermissionButtons(request.id)
        else:
            kind = PromptKind.QUESTION
            group = f"question|{request.id}"
            content = question_text(request.questions, [])
            controls = QuestionMenus(request.id, request.questions, [])
        async with self._thread_locks[thread.thread_id]:
            record = self.ctx.store.prompts.add(
                request.id,
                kind,
                thread.thread_id,
                request.session_id,
                thread.directory,
                group,
                content,
            )
            if record.state is not PromptState.PENDING:
                return
            if record.is_leader and record.message_id is None:
                message_id = await self.board.post(record, controls)
                if message_id is None:
                    self._reposts.schedule(request)  # the time limit runs all the same
                else:
                    self.ctx.store.prompts.set_message(record.request_id, message_id)
        self._waiting(thread.thread_id, True)
        if record.kind is PromptKind.PERMISSION and record.is_leader:
            self._schedule_timeout(record)

    async def _deliver_recorded(self, record: PromptRecord) -> None:
        """Tell OpenCode an answer kimaki recorded but never delivered (it crashed)."""
        if record.request_id in self._delivering:
            return
        self._delivering.add(record.request_id)
        try:
            await deliver_recorded(self.ctx.opencode, record, self.timeout_minutes)
        finally:
            self._delivering.discard(record.request_id)

    def _wait_for_thread(self, request_id: str) -> None:
        """An ask in a session with no thread yet (sync is about to make it): look again."""
        self._unbound.setdefault(request_id, time.monotonic())
        if self.on_unbound_session is not None:
            self.on_unbound_session()
        if self._retry is None or self._retry.done():
            self._retry = asyncio.create_task(self._retry_unbound(), name="asks-unbound")

    async def _retry_unbound(self) -> None:
        while self._unbound:
            await asyncio.sleep(UNBOUND_RETRY)
            cutoff = time.monotonic() - UNBOUND_PATIENCE
            for request_id, seen in list(self._unbound.items()):
                if seen < cutoff:
                    del self._unbound[request_id]  # no thread will come (sync off, no project)
            if self._unbound:
                await self.refresh()

    # --- decisions (a person answered; the gate admitted them before)

    def pending(self, request_id: str, kind: PromptKind) -> PromptRecord | str:
        """The prompt a click is about, or what to tell the person instead."""
        record = self.ctx.store.prompts.get(request_id)
        if record is None or record.kind is not kind:
            return "kimaki does not know this prompt (any more)."
        if record.state is not PromptState.PENDING:
            by = f" by {record.decided_by}" if record.decided_by else ""
            return f"this was already answered{by}."
        return record

    async def deny_with_message(self, thread_id: ThreadID, who: str, text: str) -> bool:
        """A message written while a permission waits denies it, with the words as the
        reason the agent reads. False if no permission waits (or it could not be
        answered): the message is then an ordinary prompt."""
        pending = [
            r
            for r in self.ctx.store.prompts.pending_in(thread_id)
            if r.kind is PromptKind.PERMISSION and r.is_leader
        ]
        if not pending:
            return False
        outcome = await self.decide_permission(pending[0], "reject", text, who)
        if outcome is not None:
            log.info("thread %s: a message could not deny the permission: %s", thread_id, outcome)
        return outcome is None

    async def decide_permission(
        self, record: PromptRecord, reply: str, feedback: str | None, who: str
    ) -> str | None:
        """Answer a permission (and the identical asks sharing its message) in OpenCode.

        Returns None when it was answered, else what went wrong, for the person.
        """
        group = [r.request_id for r in self.ctx.store.prompts.followers(record.leader)]
        moved = self.ctx.store.prompts.decide(
            group, PromptState.ANSWERED, reply, who, feedback=feedback
        )
        if not moved:
            return "this was already answered."
        failed, gone = [], []
        for request_id in moved:
            self._delivering.add(request_id)
            try:
                await self.ctx.opencode.reply_permission(
                    PermissionID(request_id),
                    permission_reply(reply),
                    message=feedback,
                    directory=record.directory.as_posix(),
                )
            except NotFound:
                gone.append(request_id)  # answered elsewhere (the terminal) meanwhile
            except OpenCodeError as exc:
                log.warning("could not answer permission %s: %s", request_id, exc)
                failed.append(request_id)
            finally:
                self._delivering.discard(request_id)
        if failed:
            self.ctx.store.prompts.reopen(failed)
            return "OpenCode could not be reached; try again in a moment."
        if len(gone) == len(moved):
            self.ctx.store.prompts.reopen(gone)
            for request_id in gone:
                await self._answered_elsewhere(request_id)
            return "too late: this was already answered outside Discord."
        self._cancel_timeout(record.leader)
        leader = self.ctx.store.prompts.get(record.leader) or record
        await self.board.edit(
            leader, with_note(leader.content, decision_note(reply, who, feedback)), None
        )
        self._settled(record.thread_id, continues=reply != "reject" or bool(feedback))
        return None

    async def answer_question(
        self, record: PromptRecord, index: int, choose: Choose, who: str
    ) -> str | None:
        """Record one question's answer; once every question is answered, send them all.

        Returns None when recorded, else what went wrong, for the person.
        """
        async with self._answers_lock(record.request_id):
            request = await self._question_request(record)
            if request is None or index >= len(request.questions):
                return "OpenCode no longer waits for this answer."
            labels = choose(request.questions[index])
            current = self.ctx.store.prompts.get(record.request_id) or record
            return await self._answer(current, request, index, labels, who)

    def _answers_lock(self, request_id: str) -> asyncio.Lock:
        """Two people answering one multi-question prompt at once must not overwrite
        each other's answers: read-modify-write under a per-prompt lock."""
        return self._question_locks.setdefault(request_id, asyncio.Lock())

    async def _answer(
        self,
        record: PromptRecord,
        request: QuestionRequest,
        index: int,
        labels: list[str],
        who: str,
    ) -> str | None:
        count = len(request.questions)
        answers: list[tuple[str, ...] | None] = [*record.answers[:count]]
        answers += [None] * (count - len(answers))
        answers[index] = tuple(labels)
        self.ctx.store.prompts.set_answers(record.request_id, answers)
        shown = min(count, 5)
        if any(a is None for a in answers[:shown]):
            menus = QuestionMenus(
                record.request_id, request.questions, [a is not None for a in answers]
            )
            await self.board.edit(record, question_text(request.questions, answers), menus)
            return None
        final = [list(a) if a is not None else [] for a in answers]
        if not self.ctx.store.prompts.decide(
            [record.request_id], PromptState.ANSWERED, "answered", who
        ):
            return "this was already answered."
        self._delivering.add(record.request_id)
        try:
            await self.ctx.opencode.reply_question(
                QuestionID(record.request_id), final, directory=record.directory.as_posix()
            )
        except NotFound:
            self.ctx.store.prompts.reopen([record.request_id])
            await self._answered_elsewhere(record.request_id)
            return "too late: this was already answered outside Discord."
        except OpenCodeError as exc:
            log.warning("could not answer question %s: %s", record.request_id, exc)
            self.ctx.store.prompts.reopen([record.request_id])
            return "OpenCode could not be reached; try again in a moment."
        finally:
            self._delivering.discard(record.request_id)
        self._question_locks.pop(record.request_id, None)
        content = with_note(question_text(request.questions, answers), answered_note(who))
        await self.board.edit(record, content, None)
        self._settled(record.thread_id, continues=True)
        return None

    async def _question_request(self, record: PromptRecord) -> QuestionRequest | None:
        try:
            pending = await self.ctx.opencode.questions(record.directory.as_posix())
        except OpenCodeError as exc:
            log.warning("cannot read questions: %s", exc)
            return None
        return next((q for q in pending if q.id == record.request_id), None)

    # --- outcomes without a click

    async def _answered_elsewhere(self, request_id: str) -> None:
        record = self.ctx.store.prompts.get(request_id)
        if record is None or record.state is not PromptState.PENDING:
            return
        if not self.ctx.store.prompts.decide(
            [request_id], PromptState.GONE, "elsewhere", "elsewhere"
        ):
            return
        self._cancel_timeout(request_id)
        others = self.ctx.store.prompts.followers(record.leader)
        if record.is_leader and not others:
            await self.board.edit(record, with_note(record.content, elsewhere_note()), None)
        self._settled(record.thread_id, continues=True)

    def _schedule_timeout(self, record: PromptRecord) -> None:
        if self.timeout_minutes <= 0 or record.request_id in self._timers:
            return
        deadline = record.created_at / 1000 + self.timeout_minutes * 60
        task = background_task.start(
            self._expire_at(record.request_id, deadline), name=f"ask-timeout-{record.request_id}"
        )
        self._timers[record.request_id] = task

    def _cancel_timeout(self, request_id: str) -> None:
        task = self._timers.pop(request_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _expire_at(self, leader_id: str, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - time.time()))
        self._timers.pop(leader_id, None)
        group = [r.request_id for r in self.ctx.store.prompts.followers(leader_id)]
        moved = self.ctx.store.prompts.decide(group, PromptState.EXPIRED, "reject", "timeout")
        if not moved:
            return
        leader = self.ctx.store.prompts.get(leader_id)
        if leader is None:
            return
        for request_id in moved:
            self._delivering.add(request_id)
            try:
                await self.ctx.opencode.reply_permission(
                    PermissionID(request_id),
                    "reject",
                    message=timeout_message(self.timeout_minutes),
                    directory=leader.directory.as_posix(),
                )
            except NotFound:
                pass
            except OpenCodeError as exc:
                # Recorded as expired: the next read of pending asks delivers it.
                log.warning("could not deny expired permission %s: %s", request_id, exc)
            finally:
                self._delivering.discard(request_id)
        note = expired_note(self.timeout_minutes)
        await self.board.edit(leader, with_note(leader.content, note), None)
        self._settled(leader.thread_id, continues=False)

    # --- typing

    def _waiting(self, thread_id: ThreadID, waiting: bool) -> None:
        bridge = self.bridges.get(thread_id)
        if bridge is not None:
            bridge.set_waiting(waiting)

    def _settled(self, thread_id: ThreadID, *, continues: bool) -> None:
        """A prompt was answered: once none is left the thread may show typing again."""
        if self.ctx.store.prompts.pending_in(thread_id):
            return
        self._waiting(thread_id, False)
        bridge = self.bridges.get(thread_id)
        if bridge is not None and continues:
            bridge.set_busy(True)  # the turn goes on; session.idle stops it
