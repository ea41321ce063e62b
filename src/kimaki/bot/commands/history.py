"""/undo, /redo and /compact: change a session's history.

/undo reverts to before the newest user message not yet undone: OpenCode restores the
files at once and drops the undone messages at the next prompt, so until then /redo
brings them back, one message at a time (the last step restores everything). A running
turn is aborted first, since OpenCode refuses a revert while the session is busy (409).
What Discord already shows stays; the thread says what was undone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from kimaki.bot.commands.base import AnyCommand, CommandGroup
from kimaki.bot.commands.kit import Kit, session_command
from kimaki.opencode.errors import SessionBusy
from kimaki.opencode.models import FileDiff, Message, MessageID, Session
from kimaki.store import ThreadRecord
from kimaki.util.backoff import Backoff

T = TypeVar("T")
BUSY_TRIES = 12
BUSY_BACKOFF = Backoff(initial=0.25, maximum=2.0)
"""About 15 s for an aborted turn to wind down before a revert gives up."""

group: CommandGroup[Kit] = CommandGroup()


@group.command
def undo_command(kit: Kit) -> AnyCommand:
    return session_command(
        kit,
        "undo",
        "Undo the last message of this session, file changes included",
        undo_last,
        ephemeral=False,
    )


@group.command
def redo_command(kit: Kit) -> AnyCommand:
    return session_command(
        kit,
        "redo",
        "Bring back what /undo undid",
        redo_next,
        ephemeral=False,
    )


@group.command
def compact_command(kit: Kit) -> AnyCommand:
    return session_command(
        kit,
        "compact",
        "Summarize this session to free context",
        compact_session,
        ephemeral=False,
    )


def _user_messages(messages: Sequence[Message], before: MessageID | None) -> list[Message]:
    """User messages, oldest first; with `before`, only those ahead of that message."""
    ids = [m.info.id for m in messages]
    end = ids.index(before) if before in ids else len(messages)
    return [m for m in messages[:end] if m.info.role == "user"]


async def undo_last(kit: Kit, record: ThreadRecord) -> str:
    directory = str(record.directory)
    session = await kit.opencode.session(record.session_id, directory)
    messages = await kit.opencode.all_messages(record.session_id, directory)
    candidates = _user_messages(messages, session.revert_to)
    if not candidates:
        return "nothing to undo in this session"
    target = candidates[-1]
    changed = await kit.opencode.diff(record.session_id, directory, message_id=target.info.id)
    aborted = await _abort_if_busy(kit, record)
    await _while_busy(lambda: kit.opencode.revert(record.session_id, directory, target.info.id))
    stopped = "stopped the running turn and " if aborted else ""
    return f"{stopped}undid «{_quote(target)}»{_files(changed, 'restored')}; /redo brings it back"


async def redo_next(kit: Kit, record: ThreadRecord) -> str:
    directory = str(record.directory)
    session = await kit.opencode.session(record.session_id, directory)
    if session.revert_to is None:
        return "nothing to redo (a new message since /undo makes the undo final)"
    messages = await kit.opencode.all_messages(record.session_id, directory)
    ids = [m.info.id for m in messages]
    if session.revert_to not in ids:
        return "nothing to redo: the undone messages are gone"
    back = messages[ids.index(session.revert_to)]
    later = [m for m in messages[ids.index(session.revert_to) + 1 :] if m.info.role == "user"]
    changed = await kit.opencode.diff(record.session_id, directory, message_id=back.info.id)
    restored: Session
    if later:
        restored = await _while_busy(
            lambda: kit.opencode.revert(record.session_id, directory, later[0].info.id)
        )
    else:
        restored = await _while_busy(lambda: kit.opencode.unrevert(record.session_id, directory))
    rest = "; /redo again for the next" if restored.revert_to else "; nothing is undone any more"
    return f"redid «{_quote(back)}»{_files(changed, 'changed again')}{rest}"


async def compact_session(kit: Kit, record: ThreadRecord) -> str:
    directory = str(record.directory)
    status = await kit.opencode.status(directory)
    current = status.get(record.session_id)
    if current is not None and current.is_busy:
        return "the agent is working: /compact once the turn ends (or /abort it)"
    chosen = kit.options.chosen(record.session_id, record.channel_id)
    model = chosen.model or await kit.options.default_model(directory)
    if model is None:
        return "OpenCode names no model to summarize with; choose one with /model"
    await kit.opencode.summarize(record.session_id, directory, model)
    return f"compacted the session: `{model}` summarized it, and the next turn starts from that"


async def _abort_if_busy(kit: Kit, record: ThreadRecord) -> bool:
    directory = str(record.directory)
    current = (await kit.opencode.status(directory)).get(record.session_id)
    if current is None or not current.is_busy:
        return False
    await kit.opencode.abort(record.session_id, directory)
    return True


async def _while_busy(call: Callable[[], Awaitable[T]]) -> T:
    """`call`, again while OpenCode still winds an aborted turn down (409)."""
    for attempt in range(1, BUSY_TRIES + 1):
        try:
            return await call()
        except SessionBusy:
            if attempt == BUSY_TRIES:
                raise
            await asyncio.sleep(BUSY_BACKOFF.delay(attempt))
    raise AssertionError("unreachable")


def _quote(message: Message, limit: int = 80) -> str:
    line = " ".join(message.text().split()) or "(no text)"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _files(changed: Sequence[FileDiff], verb: str) -> str:
    if not changed:
        return ", no file was changed"
    names = ", ".join(f"`{d.file}`" for d in changed[:5])
    more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
    return f", files {verb}: {names}{more}"
