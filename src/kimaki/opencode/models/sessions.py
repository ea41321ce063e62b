"""Health, projects, sessions and their run status."""

from __future__ import annotations

from dataclasses import dataclass, field

from .ids import SessionID
from .wire import Json, get_bool, get_int, get_obj, get_str, need_str


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
    id: SessionID
    directory: str
    title: str
    parent_id: SessionID | None
    created: int
    updated: int
    raw: Json = field(repr=False)

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
        )


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
