"""Answers that reach OpenCode late: recorded in the store, not yet delivered.

A decision is recorded (`prompts.decide`) before OpenCode is told, so two quick clicks
answer once. A crash between the two leaves OpenCode waiting on an answer kimaki
already has; the next read of pending asks (at start, after a stream reconnect) finds
it decided here and still listed there, and delivers it from the record.
"""

from __future__ import annotations

import logging
from typing import Literal

from kimaki.asks.texts import timeout_message
from kimaki.opencode.errors import NotFound, OpenCodeError
from kimaki.opencode.models import PermissionID, QuestionID
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import PromptKind, PromptRecord, PromptState

log = logging.getLogger(__name__)

DECIDED = (PromptState.ANSWERED, PromptState.EXPIRED)
"""States whose answer OpenCode must hear (an expired permission is denied)."""


def permission_reply(decision: str | None) -> Literal["once", "always", "reject"]:
    if decision == "once":
        return "once"
    if decision == "always":
        return "always"
    return "reject"


async def deliver_recorded(
    opencode: OpenCodeClient, record: PromptRecord, timeout_minutes: float
) -> bool:
    """Send `record`'s recorded answer; whether OpenCode took it (or no longer waits)."""
    log.info("delivering the answer to %s recorded before a restart", record.request_id)
    directory = record.directory.as_posix()
    try:
        if record.kind is PromptKind.PERMISSION:
            expired = record.state is PromptState.EXPIRED
            await opencode.reply_permission(
                PermissionID(record.request_id),
                permission_reply(record.decision),
                message=timeout_message(timeout_minutes) if expired else record.feedback,
                directory=directory,
            )
        else:
            answers = [list(a) if a is not None else [] for a in record.answers]
            await opencode.reply_question(
                QuestionID(record.request_id), answers, directory=directory
            )
    except NotFound:
        return True  # answered elsewhere meanwhile
    except OpenCodeError as exc:
        log.warning("could not deliver the answer to %s yet: %s", record.request_id, exc)
        return False
    return True
