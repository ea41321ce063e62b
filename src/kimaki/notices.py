"""Lines about a run that OpenCode's messages do not hold: retries and event-only errors.

Most of what a thread shows is derived from the session's messages (`mirror`). Two
things reach kimaki only as events of the shared server:

- a retry (`session.status {type: "retry", attempt, message, next}`): one notice,
  replaced with each further attempt while it is still the newest thing kimaki queued
  in the thread, so a provider failing ten times is one line, not ten;
- an error no message carries (`session.error`, e.g. "Model not found" for a prompt
  OpenCode could not start): one error line, keyed by the error and the newest message,
  so the duplicate events OpenCode sends make one line. An error that an assistant
  message carries is the mirror's to post, and so is one that arrives while the newest
  message is an unfinished assistant message (OpenCode sends the event before it stores
  the message with its error); a context overflow is shown from the
  compaction OpenCode stores; an abort from the aborted message.

These are events, so a session run by a separate `opencode` process shows none of them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from kimaki.opencode.models import Message, RunError, SessionID, SessionStatus
from kimaki.outbox import Outbox
from kimaki.render import render_notice, render_retry, render_session_error
from kimaki.store import OutboxState, Outgoing, Store, ThreadID, synthetic_key
from kimaki.store.db import now_ms

log = logging.getLogger(__name__)

RETRY = "retry"
SHOWN_ELSEWHERE = ("aborted", "context_overflow")


def retry_notice(
    store: Store, outbox: Outbox, thread_id: ThreadID, session_id: SessionID, status: SessionStatus
) -> None:
    """Say that OpenCode retries, replacing the notice of the previous attempt."""
    attempt = status.attempt or 1
    seconds = (status.next - now_ms()) / 1000 if status.next else 0.0
    text = render_retry(status.message or "", attempt, seconds)
    newest = store.outbox.newest_in_thread(thread_id)
    if (
        attempt > 1
        and newest is not None
        and newest.key.startswith(f"{RETRY}:")
        and newest.state is not OutboxState.FAILED
    ):
        store.outbox.replace(newest.key, text)
    else:
        key = synthetic_key(RETRY, f"{session_id}:{status.next or now_ms()}")
        store.enqueue(thread_id, None, [Outgoing(key, text, alone=True)])
    outbox.kick(thread_id)


def session_error_notice(
    store: Store,
    outbox: Outbox,
    thread_id: ThreadID,
    error: RunError,
    recent: Sequence[Message],
) -> bool:
    """Post `error` unless a message among `recent` carries it (or it is shown another
    way); whether a line was queued."""
    if error.kind in SHOWN_ELSEWHERE:
        return False
    if recent and _unfinished_answer(recent[-1]):
        return False  # the message will carry the error: the mirror posts it
    carried = [m.info.run_error for m in recent if m.info.role == "assistant"]
    if any(e is not None and (e.name, e.message) == (error.name, error.message) for e in carried):
        return False
    newest = recent[-1].info.id if recent else "none"
    digest = hashlib.sha256(f"{error.name}:{error.message}".encode()).hexdigest()[:12]
    key = synthetic_key("session-error", f"{newest}:{digest}")
    text = render_session_error(error.message or error.name)
    added = store.enqueue(thread_id, None, [Outgoing(key, text, notify=True)])
    if added:
        log.info("thread %s: OpenCode reported %s: %s", thread_id, error.name, error.message)
        outbox.kick(thread_id)
    return bool(added)


def interrupted_notice(
    store: Store, outbox: Outbox, thread_id: ThreadID, newest: str | None
) -> None:
    """The shared server died under a Discord-driven turn: said once per turn (keyed by
    the turn's newest message), so the person knows to send again."""
    key = synthetic_key("interrupted", newest or "turn")
    text = render_notice(
        "OpenCode stopped in the middle of this turn (it was restarted); send a message to continue"
    )
    if store.enqueue(thread_id, None, [Outgoing(key, text, notify=True)]):
        outbox.kick(thread_id)


def _unfinished_answer(message: Message) -> bool:
    info = message.info
    return info.role == "assistant" and info.completed is None and info.error is None
