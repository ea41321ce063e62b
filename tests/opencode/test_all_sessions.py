"""`GET /experimental/session`: every directory's sessions in one call (issue 15 relies on it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.models import Session
from kimaki.opencode.rest import OpenCodeClient
from tests.opencode.turns import run_turn


async def test_one_call_lists_every_directory_by_updated_time(
    opencode: OpenCodeClient, make_project: Callable[[str], Path]
) -> None:
    first, second = str(make_project("a")), str(make_project("b"))
    older = await opencode.create_session(first, title="xs older")
    child = await opencode.create_session(first, title="xs child", parent_id=older.id)
    newer = await opencode.create_session(second, title="xs newer")
    # A turn bumps `time.updated` past `time.created`: `start` filters on updated.
    await run_turn(opencode, older.id, first, "xs bump the older one")
    bumped = await opencode.session(older.id, first)
    assert bumped.updated > max(bumped.created, newer.updated, child.updated)

    ours = {older.id, child.id, newer.id}

    def mine(page: tuple[Session, ...]) -> list[str]:
        return [s.title for s in page if s.id in ours]

    everything = await opencode.all_sessions(start=older.created)
    assert mine(everything.sessions) == ["xs older", "xs newer", "xs child"]
    assert {s.directory for s in everything.sessions if s.id in ours} == {first, second}
    roots = await opencode.all_sessions(roots=True, start=older.created)
    assert mine(roots.sessions) == ["xs older", "xs newer"]
    since = await opencode.all_sessions(start=max(newer.updated, child.updated) + 1)
    assert mine(since.sessions) == ["xs older"], "start keeps time.updated >= start"
    assert mine((await opencode.all_sessions(search="xs newer")).sessions) == ["xs newer"]

    page = await opencode.all_sessions(start=older.created, limit=1)
    assert page.next_cursor == page.sessions[0].updated
    rest = await opencode.all_sessions(start=older.created, cursor=page.next_cursor)
    assert all(s.updated < page.next_cursor for s in rest.sessions)
    assert rest.next_cursor is None

    await opencode.update_session(newer.id, second, archived=newer.updated)
    assert "xs newer" not in mine((await opencode.all_sessions(start=older.created)).sessions)
    with_archived = await opencode.all_sessions(start=older.created, archived=True)
    assert mine(with_archived.sessions) == ["xs older", "xs newer", "xs child"]
    [archived] = [s for s in with_archived.sessions if s.id == newer.id]
    assert archived.archived == newer.updated
