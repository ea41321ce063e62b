"""Which pending outbox rows the next Discord write of a thread carries, and how.

Pure: the outbox asks this when a thread has rows no message carries yet. Rows are
packed in order, joined by newlines, up to Discord's message limit:

- appended to the thread's open message (by an edit) while they fit, when there is
  one: kimaki's newest message, still the thread's last, recent, not notifying;
- else into a new message, which stays open for later rows unless it notifies.

A row that notifies is never appended (an edit notifies nobody): it starts or ends a
new message, and that message closes. An `alone` row (a notice that will be replaced)
is a message of its own, closed. A row longer than the limit is sent alone and
Discord refuses it; the bridge splits rendered parts before they get here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.store import OutboxPostID, OutboxRow

SEPARATOR = "\n"


@dataclass(frozen=True)
class OpenMessage:
    """The message later rows may be appended to, as Discord holds it."""

    post_id: OutboxPostID
    content: str


@dataclass(frozen=True)
class Write:
    rows: tuple[OutboxRow, ...]
    content: str
    """The whole content of the message once written."""
    append_to: OpenMessage | None
    """None: a new message."""
    notify: bool
    open: bool
    """Later rows may be appended to the message."""


def next_write(
    rows: Sequence[OutboxRow], open_message: OpenMessage | None, limit: int = MESSAGE_LIMIT
) -> Write | None:
    """The next write for `rows` (pending, unassigned, in order); None when there are none."""
    if not rows:
        return None
    if open_message is not None:
        taken = _fitting(rows, len(open_message.content), appending=True, limit=limit)
        if taken:
            content = SEPARATOR.join([open_message.content, *(r.content for r in taken)])
            return Write(tuple(taken), content, open_message, notify=False, open=True)
    first = rows[0]
    if first.alone or len(first.content) > limit:
        return Write((first,), first.content, None, notify=first.notify, open=False)
    taken = _fitting(rows, None, appending=False, limit=limit)
    notify = taken[-1].notify
    content = SEPARATOR.join(r.content for r in taken)
    return Write(tuple(taken), content, None, notify=notify, open=not notify)


def _fitting(
    rows: Sequence[OutboxRow], size: int | None, *, appending: bool, limit: int
) -> list[OutboxRow]:
    """The longest prefix of `rows` that fits after `size` characters (None: nothing yet).

    Appending stops before a row that notifies; a new message ends with one.
    """
    taken: list[OutboxRow] = []
    for row in rows:
        if row.alone or (appending and row.notify):
            break
        grown = len(row.content) if size is None else size + len(SEPARATOR) + len(row.content)
        if grown > limit:
            break
        taken.append(row)
        size = grown
        if row.notify:
            break
    return taken
