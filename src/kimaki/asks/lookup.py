"""Which thread an ask belongs to: its session's, or its nearest ancestor's (a subagent
asks too, from a child session that has no thread of its own)."""

from __future__ import annotations

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import SessionID
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import Store, ThreadRecord

PARENT_DEPTH = 5


async def thread_for(
    store: Store, opencode: OpenCodeClient, session_id: SessionID
) -> ThreadRecord | None:
    """The live thread of the session or of its nearest bound ancestor, if any."""
    current: SessionID | None = session_id
    for _ in range(PARENT_DEPTH):
        if current is None:
            return None
        record = store.threads.by_session(current)
        if record is not None:
            return None if record.deleted else record
        current = await _parent_of(store, opencode, current)
    return None


async def _parent_of(
    store: Store, opencode: OpenCodeClient, session_id: SessionID
) -> SessionID | None:
    for project in store.projects.all():
        try:
            session = await opencode.session(session_id, project.directory.as_posix())
        except OpenCodeError:
            continue
        return session.parent_id
    return None
