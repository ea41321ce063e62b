"""Permission and question prompts: an agent waiting on a person, answered from the thread.

`Asks` owns every pending prompt of every thread, whoever started the session (Discord,
or a terminal attached to the shared server and mirrored by sync):

- **posting**: `permission.asked` / `question.asked` (or, at start and after an event
  stream reconnect, `GET /permission` and `GET /question`) → a row in the `prompts`
  table, *then* one message with buttons or menus, sent with a nonce derived from the
  request id, then the message id recorded. A crash anywhere re-sends with the same
  nonce (Discord returns the first message) or finds the row and posts nothing: a
  restart re-binds, it never posts twice. Asks for the same thing in one thread (same
  session, permission and patterns) share the first ask's message and are answered
  together.
- **answering**: a click, pick or modal arrives through `kimaki.bot.prompts_ui`, after
  the gate (`kimaki.bot.gate`) admitted the person. **Deny** rejects at once; **Deny
  with reason…** (or the next message written in the thread meanwhile) carries words
  to the agent. The row is claimed first (`decide`, so two quick clicks answer once),
  then OpenCode is told, then the message is edited to say who decided what and when.
  If OpenCode cannot be reached the claim is undone and the buttons keep working.
- **time limit**: a permission left unanswered for `--permission-timeout` minutes
  (counted from when it was first recorded, across restarts) is denied with a message
  that tells the model why, and its prompt says it expired.
- **typing**: while a thread has a pending prompt its bridge shows no typing (the agent
  is not working, it is waiting on a person).

Why not the outbox: outbox rows are plain text posted in order and never touched again;
a prompt carries components, is edited when answered and must be found again by its
request id. It gets its own small table and send path, with the same write-first,
deterministic-nonce discipline (`store.prompts`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from kimaki.bot.prompts_ui import (
    OTHER,
    REASON,
    DenyModal,
    OtherModal,
    chosen_labels,
    permission_view,
    question_view,
)
from kimaki.bridge import BridgeContext
from kimaki.opencode.errors import NotFound, OpenCodeError
from kimaki.opencode.events import Resync, StreamItem
from kimaki.opencode.models import (
    Event,
    PermissionAsked,
    PermissionID,
    PermissionRequest,
    QuestionAsked,
    QuestionID,
    QuestionRequest,
    SessionID,
)
from kimaki.store import (
    DiscordMessageID,
    PromptKind,
    PromptRecord,
    PromptState,
    ThreadID,
    ThreadRecord,
    nonce_for,
    prompt_key,
)

if TYPE_CHECKING:
    from kimaki.sessions import SessionsRuntime

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
UNBOUND_RETRY = 2.0
UNBOUND_PATIENCE = 180.0
REPLIED_EVENTS = ("permission.replied", "question.replied", "question.rejected")
DECISIONS = {
    "once": "✅ **Accepted once**",
    "always": "✅ **Accepted always**",
    "reject": "❌ **Denied**",
}


def timeout_message(minutes: float) -> str:
    return (
        f"Nobody answered this permission request in Discord within {minutes:g} minutes, "
        "so kimaki denied it automatically. The user may be away: do not retry it; continue "
        "without it or ask the user in your reply."
    )


class Asks:
    def __init__(
        self,
        ctx: BridgeContext,
        sessions: SessionsRuntime,
        *,
        allow_all_users: bool,
        timeout_minutes: float,
    ) -> None:
        self.ctx = ctx
        self.sessions = sessions
        self.allow_all_users = allow_all_users
        self.timeout_minutes = timeout_minutes
        self._lock = asyncio.Lock()
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._unbound: dict[str, float] = {}  # request id -> first seen (monotonic)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retry: asyncio.Task[None] | None = None
        self._question_locks: dict[str, asyncio.Lock] = {}

    # --- lifecycle

    def start(self) -> None:
        self._spawn(self.refresh())

    async def stop(self) -> None:
        tasks = [*self._timers.values(), *self._tasks]
        if self._retry is not None:
            tasks.append(self._retry)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._timers.clear()

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- from OpenCode

    async def handle(self, item: StreamItem) -> bool:
        """Take the events that concern prompts; returns whether `item` was one."""
        if isinstance(item, Resync):
            self._spawn(self.refresh())  # beside, not before, the sessions runtime's catch-up
            return False
        if isinstance(item, PermissionAsked | QuestionAsked):
            if item.request is not None:
                await self.ask(item.request)
            return True
        if isinstance(item, Event) and item.type in REPLIED_EVENTS:
            request_id = item.properties.get("requestID")
            if isinstance(request_id, str):
                await self._answered_elsewhere(request_id)
            return True
        return False

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
                await self.ask(request)
        for record in self.ctx.store.prompts.pending():
            if record.directory.as_posix() in looked and record.request_id not in listed:
                await self._answered_elsewhere(record.request_id)

    async def ask(self, request: PermissionRequest | QuestionRequest) -> None:
        """Post `request` in its session's thread, once (or re-bind the prompt posted before)."""
        thread = await self._thread_for(request.session_id)
        if thread is None:
            self._wait_for_thread(request.id)
            return
        self._unbound.pop(request.id, None)
        if isinstance(request, PermissionRequest):
            kind = PromptKind.PERMISSION
            group = "|".join(["perm", request.session_id, request.permission, *request.patterns])
            content = permission_text(request)
        else:
            kind = PromptKind.QUESTION
            group = f"question|{request.id}"
            content = question_text(request.questions, [])
        async with self._lock:
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
                view = (
                    permission_view(request.id)
                    if isinstance(request, PermissionRequest)
                    else question_view(request.id, request.questions, [])
                )
                if not await self._post(record, view):
                    return
        self._waiting(thread.thread_id, True)
        if record.kind is PromptKind.PERMISSION and record.is_leader:
            self._schedule_timeout(record)

    async def _post(self, record: PromptRecord, view: discord.ui.View | None) -> bool:
        channel = self.ctx.discord.get_partial_messageable(
            record.thread_id, type=discord.ChannelType.public_thread
        )
        try:
            message = await channel.send(
                record.content,
                view=view or discord.utils.MISSING,
                nonce=nonce_for(record.thread_id, prompt_key(record.request_id)),
                allowed_mentions=discord.AllowedMentions.none(),
            )  # not silent: a person has to act; discord.py adds enforce_nonce with a nonce
        except discord.HTTPException as exc:
            log.warning("could not post the prompt for %s: %s", record.request_id, exc)
            return False
        self.ctx.store.prompts.set_message(record.request_id, DiscordMessageID(message.id))
        return True

    async def _thread_for(self, session_id: SessionID) -> ThreadRecord | None:
        """The thread of the session, or of its nearest ancestor (a subagent asks too)."""
        current: SessionID | None = session_id
        for _ in range(5):
            if current is None:
                return None
            record = self.ctx.store.threads.by_session(current)
            if record is not None:
                return None if record.deleted else record
            parent = await self._parent_of(current)
            current = parent
        return None

    async def _parent_of(self, session_id: SessionID) -> SessionID | None:
        for project in self.ctx.store.projects.all():
            try:
                session = await self.ctx.opencode.session(session_id, project.directory.as_posix())
            except OpenCodeError:
                continue
            return session.parent_id
        return None

    def _wait_for_thread(self, request_id: str) -> None:
        """An ask in a session with no thread yet (sync is about to make it): look again."""
        self._unbound.setdefault(request_id, time.monotonic())
        if self.sessions.on_unbound_session is not None:
            self.sessions.on_unbound_session()
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

    # --- from Discord
    #
    # The gate (`kimaki.bot.gate`) has already checked the person. Each handler answers
    # what the store alone can tell at once (unknown or already answered), otherwise it
    # acknowledges the interaction first (Discord allows 3 s) and only then talks to
    # OpenCode; the outcome is shown by editing the prompt, a failure privately.

    async def _pending(
        self, interaction: discord.Interaction[Any], request_id: str, kind: PromptKind
    ) -> PromptRecord | None:
        record = self.ctx.store.prompts.get(request_id)
        if record is None or record.kind is not kind:
            await _tell(interaction, "kimaki does not know this prompt (any more).")
            return None
        if record.state is not PromptState.PENDING:
            by = f" by {record.decided_by}" if record.decided_by else ""
            await _tell(interaction, f"this was already answered{by}.")
            return None
        return record

    async def permission_clicked(
        self, interaction: discord.Interaction[Any], request_id: str, reply: str
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.PERMISSION)
        if record is None:
            return
        if reply == REASON:
            await interaction.response.send_modal(DenyModal(request_id))
            return
        await interaction.response.defer()
        await self._decide_permission(interaction, record, reply, None)

    async def deny_submitted(
        self, interaction: discord.Interaction[Any], request_id: str, feedback: str
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.PERMISSION)
        if record is not None:
            await interaction.response.defer()
            await self._decide_permission(interaction, record, "reject", feedback or None)

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
        outcome = await self._settle_permission(pending[0], "reject", text, who)
        if outcome is not None:
            log.info("thread %s: a message could not deny the permission: %s", thread_id, outcome)
        return outcome is None

    async def _decide_permission(
        self,
        interaction: discord.Interaction[Any],
        record: PromptRecord,
        reply: str,
        feedback: str | None,
    ) -> None:
        outcome = await self._settle_permission(
            record, reply, feedback, interaction.user.display_name
        )
        if outcome is not None:
            await _tell(interaction, outcome)

    async def _settle_permission(
        self, record: PromptRecord, reply: str, feedback: str | None, who: str
    ) -> str | None:
        """Answer a permission (and the identical asks sharing its message) in OpenCode.

        Returns None when it was answered, else what went wrong, for the person.
        """
        group = [r.request_id for r in self.ctx.store.prompts.followers(record.leader)]
        moved = self.ctx.store.prompts.decide(group, PromptState.ANSWERED, reply, who)
        if not moved:
            return "this was already answered."
        failed, gone = [], []
        for request_id in moved:
            try:
                await self.ctx.opencode.reply_permission(
                    PermissionID(request_id),
                    "once" if reply == "once" else "always" if reply == "always" else "reject",
                    message=feedback,
                    directory=record.directory.as_posix(),
                )
            except NotFound:
                gone.append(request_id)  # answered elsewhere (the terminal) meanwhile
            except OpenCodeError as exc:
                log.warning("could not answer permission %s: %s", request_id, exc)
                failed.append(request_id)
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
        decision = DECISIONS[reply] + f" by **{who}** · {_when()}"
        if feedback:
            decision += f"\n> {_quote(feedback)}"
        await self._edit(leader, _with(leader.content, decision))
        self._settled(record.thread_id, continues=reply != "reject" or bool(feedback))
        return None

    async def question_picked(
        self, interaction: discord.Interaction[Any], request_id: str, index: int, values: list[str]
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.QUESTION)
        if record is None:
            return
        if OTHER in values:  # a modal must be the first answer: open it before anything slow
            picked = [v for v in values if v != OTHER]
            await interaction.response.send_modal(OtherModal(request_id, index, picked))
            return
        await interaction.response.defer()
        await self._answer_question(interaction, record, index, values, None)

    async def other_submitted(
        self,
        interaction: discord.Interaction[Any],
        request_id: str,
        index: int,
        picked: list[str],
        text: str,
    ) -> None:
        record = await self._pending(interaction, request_id, PromptKind.QUESTION)
        if record is None:
            return
        await interaction.response.defer()
        await self._answer_question(interaction, record, index, picked, text or None)

    async def _answer_question(
        self,
        interaction: discord.Interaction[Any],
        record: PromptRecord,
        index: int,
        values: list[str],
        text: str | None,
    ) -> None:
        """Record one question's answer (select values, and the "Other…" text if any);
        once every question is answered, send them all to OpenCode."""
        async with self._answers_lock(record.request_id):
            request = await self._question_request(record)
            if request is None or index >= len(request.questions):
                await _tell(interaction, "OpenCode no longer waits for this answer.")
                return
            labels = chosen_labels(request.questions[index], values)
            if text:
                labels.append(text)
            current = self.ctx.store.prompts.get(record.request_id) or record
            outcome = await self._answer(current, request, index, labels, who=interaction.user)
        if outcome is not None:
            await _tell(interaction, outcome)

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
        *,
        who: discord.abc.User,
    ) -> str | None:
        count = len(request.questions)
        answers: list[tuple[str, ...] | None] = [*record.answers[:count]]
        answers += [None] * (count - len(answers))
        answers[index] = tuple(labels)
        self.ctx.store.prompts.set_answers(record.request_id, answers)
        shown = min(count, 5)
        if any(a is None for a in answers[:shown]):
            view = question_view(
                record.request_id, request.questions, [a is not None for a in answers]
            )
            await self._edit(record, question_text(request.questions, answers), view)
            return None
        name = who.display_name
        final = [list(a) if a is not None else [] for a in answers]
        if not self.ctx.store.prompts.decide(
            [record.request_id], PromptState.ANSWERED, "answered", name
        ):
            return "this was already answered."
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
        self._question_locks.pop(record.request_id, None)
        content = _with(
            question_text(request.questions, answers), f"✅ answered by **{name}** · {_when()}"
        )
        await self._edit(record, content, None)
        self._settled(record.thread_id, continues=True)
        return None

    async def _question_request(self, record: PromptRecord) -> QuestionRequest | None:
        try:
            pending = await self.ctx.opencode.questions(record.directory.as_posix())
        except OpenCodeError as exc:
            log.warning("cannot read questions: %s", exc)
            return None
        return next((q for q in pending if q.id == record.request_id), None)

    async def _edit(
        self, record: PromptRecord, content: str, view: discord.ui.View | None = None
    ) -> None:
        if record.message_id is None:
            return
        channel = self.ctx.discord.get_partial_messageable(
            record.thread_id, type=discord.ChannelType.public_thread
        )
        try:
            await channel.get_partial_message(record.message_id).edit(
                content=content[:MESSAGE_LIMIT], view=view
            )
        except discord.HTTPException as exc:
            log.warning("could not edit the prompt for %s: %s", record.request_id, exc)

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
            note = f"⬦ answered outside Discord · {_when()}"
            await self._edit(record, _with(record.content, note))
        self._settled(record.thread_id, continues=True)

    def _schedule_timeout(self, record: PromptRecord) -> None:
        if self.timeout_minutes <= 0 or record.request_id in self._timers:
            return
        deadline = record.created_at / 1000 + self.timeout_minutes * 60
        task = asyncio.create_task(
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
                log.warning("could not deny expired permission %s: %s", request_id, exc)
        note = (
            f"⌛ **Expired**: nobody answered within {self.timeout_minutes:g} minutes, "
            f"so it was denied automatically · {_when()}"
        )
        await self._edit(leader, _with(leader.content, note))
        self._settled(leader.thread_id, continues=False)

    # --- typing

    def _waiting(self, thread_id: ThreadID, waiting: bool) -> None:
        bridge = self.sessions.bridges.get(thread_id)
        if bridge is None:
            record = self.ctx.store.threads.get(thread_id)
            if record is None or record.deleted:
                return
            bridge = self.sessions.bridge_for(record)
        bridge.set_waiting(waiting)

    def _settled(self, thread_id: ThreadID, *, continues: bool) -> None:
        """A prompt was answered: once none is left the thread may show typing again."""
        if self.ctx.store.prompts.pending_in(thread_id):
            return
        self._waiting(thread_id, False)
        bridge = self.sessions.bridges.get(thread_id)
        if bridge is not None and continues:
            bridge.set_busy(True)  # the turn goes on; session.idle stops it


# --- rendering


def permission_text(request: PermissionRequest) -> str:
    lines = [f"🔐 **Permission needed: `{request.permission or '?'}`**"]
    if request.patterns:
        shown = ", ".join(f"`{p}`" for p in request.patterns[:10])
        more = f" (+{len(request.patterns) - 10} more)" if len(request.patterns) > 10 else ""
        lines.append(f"Patterns: {shown}{more}")
    details = [
        f"{key}: `{_short(value)}`"
        for key in ("command", "filepath", "filePath", "path", "url")
        if isinstance(value := request.metadata.get(key), str) and value
    ]
    lines += details[:2]
    if request.tool_call_id:
        lines.append(f"Tool call: `{request.tool_call_id}`")
    if request.always and request.always != request.patterns:
        lines.append("Accept always covers: " + ", ".join(f"`{p}`" for p in request.always[:5]))
    return "\n".join(lines)[: MESSAGE_LIMIT - 300]


def question_text(questions: Sequence[Any], answers: Sequence[Sequence[str] | None]) -> str:
    blocks = []
    for index, question in enumerate(questions):
        lines = [f"❓ **{question.header or 'Question'}**"]
        if question.question:
            lines.append(question.question)
        for option in question.options[:25]:
            described = f" — {option.description}" if option.description else ""
            lines.append(f"• **{option.label}**{described}")
        if question.multiple:
            lines.append("_(pick one or more)_")
        answer = answers[index] if index < len(answers) else None
        if answer is not None:
            lines.append("→ " + (", ".join(f"**{a}**" for a in answer) or "_(no answer)_"))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)[: MESSAGE_LIMIT - 200]


async def _tell(interaction: discord.Interaction[Any], text: str) -> None:
    """A private one-line answer, whether or not the interaction was acknowledged yet."""
    content = f"⬦ {text}"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not answer %s: %s", interaction.user, exc)


def _with(content: str, note: str) -> str:
    return f"{content}\n\n{note}"[:MESSAGE_LIMIT]


def _when() -> str:
    return f"<t:{int(time.time())}:f>"


def _short(value: str, limit: int = 200) -> str:
    value = value.replace("`", "'").replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _quote(text: str) -> str:
    return _short(text, 500)
