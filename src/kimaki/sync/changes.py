"""Which sessions changed: one request per tick lists them for every directory.

`GET /experimental/session?roots=true&start=S` returns the root sessions of every
directory whose `time.updated >= S`, newest first; sync filters them by directory
itself. S follows what the previous listing saw (`HighWater`):

    S = min(newest time.updated seen, when the previous listing began) − MARGIN_MS

Why that is enough. OpenCode stamps `time.updated = Date.now()` and then commits the
write in a `BEGIN IMMEDIATE` transaction, which waits for the write lock at most its
`busy_timeout` of 5 s (1.18.33; every process writing the store shares it). A session
a listing did not see was committed after that listing's snapshot, so after the listing
began; its stamp is at most the lock wait (plus a few ms of work) older than its
commit, so it is at least "listing began − 5 s". The newest stamp seen only ever lowers
S further (and keeps S right if kimaki's clock runs ahead of OpenCode's). A margin of
10 s covers the 5 s lock wait twice over, and small clock steps. Re-listing the
sessions of the last 10 s costs nothing but a few entries in the one response: sync
looks a listed session up in its own store and goes no further when it is unchanged.

Pages. A response holds at most `limit` sessions; a full one carries `x-next-cursor`,
the last session's `time.updated`, and the next page holds sessions updated *strictly*
before it — sessions sharing that millisecond across the boundary would be skipped. So
the next request asks for `cursor + 1` (that millisecond again) and drops the sessions
it already has; if a whole page shares one millisecond, it asks again with twice the
limit.

OpenCode without the endpoint (older versions, or an error when sync starts) gets the
per-directory listing instead (`GET /session?directory=…`); `choose` decides once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from kimaki.opencode.errors import OpenCodeError, OpenCodeUnavailable
from kimaki.opencode.models import Session, SessionID, SessionPage
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store.db import now_ms

log = logging.getLogger(__name__)

MARGIN_MS = 10_000
PAGE_LIMIT = 200

Fetch = Callable[[int, int | None, int], Awaitable[SessionPage]]
"""One page: (start, cursor, limit) → sessions with `start <= updated < cursor`."""


async def updated_since(fetch: Fetch, start: int, limit: int = PAGE_LIMIT) -> list[Session]:
    """Every session with `time.updated >= start`, newest first, each once, across pages."""
    found: dict[SessionID, Session] = {}
    cursor: int | None = None
    size = limit
    while True:
        page = await fetch(start, cursor, size)
        for session in page.sessions:
            found.setdefault(session.id, session)
        if page.next_cursor is None:
            return list(found.values())
        following = page.next_cursor + 1  # the boundary millisecond again
        if following == cursor:
            size *= 2  # the whole page shares one millisecond: take more of it at once
        else:
            cursor, size = following, limit


@dataclass
class HighWater:
    """Where the next listing starts (see the module's docstring for why)."""

    margin_ms: int = MARGIN_MS
    newest: int | None = None
    """The newest `time.updated` any listing returned (or sync recorded before a restart)."""
    began: int | None = None
    """kimaki's clock when the previous listing began."""

    def start(self, floor: int, hold: int | None = None) -> int:
        """The next listing's `start`; `hold` keeps a session still being looked at in it.

        Before the first listing it reaches back to `floor` (sessions created since
        kimaki started, less the grace) and to the newest update recorded before a
        restart, so turns that finished while kimaki was down are listed too.
        """
        first = floor if self.began is None else self.began
        return min(m for m in (first, self.newest, hold) if m is not None) - self.margin_ms

    def advance(self, began: int, sessions: Iterable[Session]) -> None:
        self.began = began
        for session in sessions:
            if self.newest is None or session.updated > self.newest:
                self.newest = session.updated


class AllSessions:
    """Every directory's changed sessions in one listing per tick."""

    def __init__(
        self, client: OpenCodeClient, mark: HighWater, *, clock: Callable[[], int] = now_ms
    ) -> None:
        self.client = client
        self.mark = mark
        self.clock = clock

    async def changed(
        self, floor: int, hold: int | None = None, *, timeout: float | None = None
    ) -> list[Session]:
        """Root sessions of every directory updated since the previous listing (and `hold`).

        `timeout` bounds each page's request. A listing that fails leaves the mark
        where it was: the next one covers the same ground again.
        """

        async def page(start: int, cursor: int | None, limit: int) -> SessionPage:
            return await self.client.all_sessions(
                roots=True, start=start, cursor=cursor, limit=limit, timeout=timeout
            )

        began = self.clock()
        sessions = await updated_since(page, self.mark.start(floor, hold))
        self.mark.advance(began, sessions)
        return sessions


class Listing(Enum):
    ALL = "one listing of every directory per tick"
    PER_DIRECTORY = "one listing per directory per tick"


async def choose(client: OpenCodeClient) -> Listing | None:
    """Which listing this OpenCode supports; None while it cannot be reached (ask again).

    `/experimental/session` must answer, and name each session's directory: an
    OpenCode that lacks it (404) or fails it gets the per-directory listing, for good.
    """
    try:
        page = await client.all_sessions(roots=True, limit=1)
    except OpenCodeUnavailable:
        return None
    except (OpenCodeError, ValueError) as exc:  # 404 or 5xx; not JSON, not sessions
        log.info(
            "sync: OpenCode's GET /experimental/session failed (%s): listing each project "
            "directory separately instead",
            exc,
        )
        return Listing.PER_DIRECTORY
    if any(not s.directory or not s.updated for s in page.sessions):
        log.info(
            "sync: OpenCode's GET /experimental/session does not say each session's directory: "
            "listing each project directory separately instead"
        )
        return Listing.PER_DIRECTORY
    log.info("sync: one GET /experimental/session per tick lists every project's sessions")
    return Listing.ALL
