"""Which sessions changed: paging across shared milliseconds, the margin, the fallback choice.

`FakeListing` answers `GET /experimental/session` the way OpenCode 1.18.33 does (its
query, read from the pinned build and checked in tests/opencode/test_all_sessions.py):
`start <= time.updated < cursor`, newest first (ties by id, descending), at most
`limit`, and `x-next-cursor` = the last session's `time.updated` when more remain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from kimaki.opencode.errors import NotFound, OpenCodeError, OpenCodeHTTPError, OpenCodeUnavailable
from kimaki.opencode.models import Session, SessionID, SessionPage
from kimaki.sync.changes import AllSessions, HighWater, Listing, choose, updated_since


def session(name: str, updated: int, directory: str = "/p") -> Session:
    raw = {"id": name, "directory": directory, "time": {"created": 1, "updated": updated}}
    return Session.from_json(raw)


@dataclass
class FakeListing:
    sessions: list[Session] = field(default_factory=list)
    calls: list[tuple[int | None, int | None, int]] = field(default_factory=list)
    visible: set[SessionID] | None = None
    """Sessions committed as far as a listing can see (None: all)."""

    async def all_sessions(
        self,
        *,
        roots: bool = False,
        start: int | None = None,
        limit: int | None = None,
        cursor: int | None = None,
        timeout: float | None = None,
    ) -> SessionPage:
        size = limit or 100
        self.calls.append((start, cursor, size))
        rows = [
            s
            for s in self.sessions
            if (self.visible is None or s.id in self.visible)
            and (start is None or s.updated >= start)
            and (cursor is None or s.updated < cursor)
        ]
        rows.sort(key=lambda s: (s.updated, s.id), reverse=True)
        page = rows[:size]
        more = len(rows) > size and page
        return SessionPage(tuple(page), page[-1].updated if more else None)

    async def page(self, start: int, cursor: int | None, limit: int) -> SessionPage:
        return await self.all_sessions(start=start, cursor=cursor, limit=limit)


async def test_sessions_sharing_the_boundary_millisecond_are_all_listed_once() -> None:
    fake = FakeListing([session(f"s{n}", 1000 - n // 3) for n in range(10)])  # 3 per ms
    found = await updated_since(fake.page, 0, limit=4)
    assert sorted(s.id for s in found) == sorted(s.id for s in fake.sessions)
    assert len(found) == 10
    # Following x-next-cursor as given would lose the boundary's other sessions:
    first = await fake.page(0, None, 4)
    assert first.next_cursor is not None
    rest = await fake.page(0, first.next_cursor, 100)
    assert len(first.sessions) + len(rest.sessions) < 10


async def test_a_page_that_is_all_one_millisecond_asks_again_with_a_larger_limit() -> None:
    fake = FakeListing([session(f"t{n}", 500) for n in range(7)] + [session("older", 400)])
    found = await updated_since(fake.page, 0, limit=3)
    assert {s.id for s in found} == {*(f"t{n}" for n in range(7)), "older"}
    assert [size for _, _, size in fake.calls] == [3, 3, 6, 12]


async def test_nothing_since_start_is_one_request() -> None:
    fake = FakeListing([session("old", 10)])
    assert await updated_since(fake.page, 11) == []
    assert len(fake.calls) == 1


def test_the_first_listing_reaches_back_to_the_floor_or_what_was_recorded_before() -> None:
    assert HighWater(margin_ms=10).start(floor=1000) == 990
    assert HighWater(margin_ms=10, newest=400).start(floor=1000) == 390  # down while it ran
    assert HighWater(margin_ms=10, newest=5000).start(floor=1000) == 990


def test_later_listings_start_a_margin_before_what_was_seen_or_began() -> None:
    mark = HighWater(margin_ms=10)
    mark.advance(2000, [session("a", 1500), session("b", 1700)])
    assert mark.start(floor=0) == 1690
    mark.advance(2100, [])
    assert mark.start(floor=0) == 1690, "an empty listing keeps the newest seen"
    assert mark.start(floor=0, hold=1200) == 1190, "a session still being looked at is kept"
    ahead = HighWater(margin_ms=10)
    ahead.advance(3000, [session("future", 9_999_999)])  # a clock far ahead wrote it
    assert ahead.start(floor=0) == 2990


async def test_a_session_written_during_the_previous_listing_is_in_the_next() -> None:
    """OpenCode stamps `time.updated`, then waits up to 5 s for the write lock: a write
    the first listing could not see is at most that much older than the listing."""
    now = 100_000
    earlier = session("earlier", now - 30_000)
    late = session("late", now - 5_000)  # stamped, then committed after the snapshot
    fake = FakeListing([earlier, late], visible={earlier.id})
    feed = AllSessions(fake, HighWater(), clock=lambda: now)  # type: ignore[arg-type]
    assert [s.id for s in await feed.changed(floor=now - 60_000)] == ["earlier"]
    fake.visible = None
    assert "late" in [s.id for s in await feed.changed(floor=now - 60_000)]
    assert feed.mark.start(floor=0) == now - 5_000 - 10_000


async def test_a_failed_listing_leaves_the_mark_where_it_was() -> None:
    class Failing(FakeListing):
        async def all_sessions(self, **kwargs: object) -> SessionPage:
            raise OpenCodeUnavailable("down")

    mark = HighWater(margin_ms=10, newest=500, began=600)
    feed = AllSessions(Failing(), mark, clock=lambda: 900)  # type: ignore[arg-type]
    with pytest.raises(OpenCodeUnavailable):
        await feed.changed(floor=0)
    assert (mark.newest, mark.began) == (500, 600)


class ChoiceClient:
    def __init__(self, outcome: SessionPage | Exception) -> None:
        self.outcome = outcome

    async def all_sessions(self, **kwargs: object) -> SessionPage:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.mark.parametrize(
    ("outcome", "listing"),
    [
        (SessionPage((session("a", 5),), None), Listing.ALL),
        (SessionPage((), None), Listing.ALL),
        (NotFound(404, "NotFoundError", "no route", None), Listing.PER_DIRECTORY),
        (OpenCodeHTTPError(500, "UnknownError", "boom", None), Listing.PER_DIRECTORY),
        (OpenCodeError("expected a JSON list, got str"), Listing.PER_DIRECTORY),
        (SessionPage((session("a", 5, directory=""),), None), Listing.PER_DIRECTORY),
        (OpenCodeUnavailable("connection refused"), None),
    ],
)
async def test_the_listing_is_chosen_by_what_the_endpoint_answers(
    outcome: SessionPage | Exception, listing: Listing | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kimaki.sync.changes"):
        assert await choose(ChoiceClient(outcome)) is listing  # type: ignore[arg-type]
    said = [r.getMessage() for r in caplog.records]
    if listing is None:
        assert said == [], "undecided: nothing said until it is decided"
    else:
        assert len(said) == 1
        assert ("separately" in said[0]) == (listing is Listing.PER_DIRECTORY)
