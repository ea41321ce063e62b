"""Health, projects, sessions and their run status."""

from __future__ import annotations

from dataclasses import dataclass, field

from .ids import MessageID, SessionID
from .usage import Tokens
from .wire import Json, get_bool, get_float, get_int, get_obj, get_str, need_str


@dataclass(frozen=True)
class Health:
    healthy: bool
    version: str
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Health:
        return cls(get_bool(data, "healthy"), get_str(data, "version") or "unknown", data)


@dataclass(frozen=True)
class Project:
    id: str
    worktree: str
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Project:
        return cls(need_str(data, "id", "project"), get_str(data, "worktree") or "", data)


@dataclass(frozen=True)
class Session:
    """A session; `cost` and `tokens` add up all its assistant messages.

    `revert_to` is set after `POST /revert` (the message reverted from) until `/unrevert`
    or the next prompt; `share_url` only while shared; `archived` is a time in ms.
    """

    id: SessionID
    directory: str
    title: str
    parent_id: SessionID | None
    created: int
    updated: int
    raw: Json = field(repr=False)
    cost: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)
    share_url: str | None = None
    revert_to: MessageID | None = None
    archived: int | None = None

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @classmethod
    def from_json(cls, data: Json) -> Session:
        times = get_obj(data, "time")
        parent = get_str(data, "parentID")
        return cls(
            id=SessionID(need_str(data, "id", "session")),
            directory=get_str(data, "directory") or "",
            title=get_str(data, "title") or "",
            parent_id=SessionID(parent) if parent else None,
            created=get_int(times, "created") or 0,
            updated=get_int(times, "updated") or get_int(times, "created") or 0,
            raw=data,
            cost=get_float(data, "cost") or 0.0,
            tokens=Tokens.from_json(get_obj(data, "tokens")),
            share_url=get_str(get_obj(data, "share"), "url"),
            revert_to=_message_id(get_str(get_obj(data, "revert"), "messageID")),
            archived=get_int(times, "archived"),
        )


def _message_id(value: str | None) -> MessageID | None:
    return MessageID(value) if value else None


@dataclass(frozen=True)
class SessionStatus:
    """`idle`, `busy` or `retry` (with attempt, message and the next try's time)."""

    type: str
    attempt: int | None
    message: str | None
    next: int | None
    raw: Json = field(repr=False)

    @property
    def is_busy(self) -> bool:
        return self.type in ("busy", "retry")

    @classmethod
    def from_json(cls, data: Json) -> SessionStatus:
        return cls(
            type=get_str(data, "type") or "unknown",
            attempt=get_int(data, "attempt"),
            message=get_str(data, "message"),
            next=get_int(data, "next"),
            raw=data,
        )


@dataclass(frozen=True)
class SessionPage:
    """One page of `GET /experimental/session`, newest `time.updated` first.

    `next_cursor` (header `x-next-cursor`) is the last session's `time.updated`; the next page
    holds sessions updated strictly before it, so sessions sharing that millisecond across a
    page boundary are skipped: page with a `limit` well above what one millisecond can hold.
    """

    sessions: tuple[Session, ...]
    next_cursor: int | None


@dataclass(frozen=True)
class FileDiff:
    """One file's change: `status` is `added`, `deleted` or `modified`; `patch` a unified diff."""

    file: str
    patch: str
    additions: int
    deletions: int
    status: str
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> FileDiff:
        return cls(
            file=get_str(data, "file") or "",
            patch=get_str(data, "patch") or "",
            additions=get_int(data, "additions") or 0,
            deletions=get_int(data, "deletions") or 0,
            status=get_str(data, "status") or "modified",
            raw=data,
        )
