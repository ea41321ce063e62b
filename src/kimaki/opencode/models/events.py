"""Events from `/global/event`: unknown or broken ones stay a generic `Event`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .asks import PermissionRequest, QuestionRequest
from .ids import PartID, SessionID
from .messages import MessageInfo
from .parts import Part, parse_part
from .sessions import Session, SessionStatus
from .usage import RunError
from .wire import Json, WireFormatError, get_obj, get_str


@dataclass(frozen=True)
class Event:
    """One event. `type` is OpenCode's; subclasses carry parsed properties."""

    type: str
    directory: str | None
    properties: Json
    raw: Json = field(repr=False)

    @property
    def session_id(self) -> SessionID | None:
        value = get_str(self.properties, "sessionID")
        return SessionID(value) if value else None


@dataclass(frozen=True)
class PartUpdated(Event):
    part: Part | None = None


@dataclass(frozen=True)
class PartDelta(Event):
    """Streamed text for a part not yet finished (never posted; only a liveness hint)."""

    part_id: PartID | None = None
    delta: str = ""


@dataclass(frozen=True)
class MessageUpdated(Event):
    info: MessageInfo | None = None


@dataclass(frozen=True)
class SessionStatusChanged(Event):
    status: SessionStatus | None = None


@dataclass(frozen=True)
class SessionIdle(Event):
    pass


@dataclass(frozen=True)
class SessionUpdated(Event):
    """`session.created` and `session.updated` (title changes arrive here)."""

    session: Session | None = None


@dataclass(frozen=True)
class SessionErrored(Event):
    """A turn failed (also for errors OpenCode recovers from, e.g. a context overflow it
    compacts away, or a prompt_async body it could not start)."""

    error: Json | None = None

    @property
    def run_error(self) -> RunError | None:
        return RunError.from_json(self.error) if self.error else None


@dataclass(frozen=True)
class PermissionAsked(Event):
    request: PermissionRequest | None = None


@dataclass(frozen=True)
class QuestionAsked(Event):
    request: QuestionRequest | None = None


@dataclass(frozen=True)
class Heartbeat(Event):
    pass


def parse_event(data: Json) -> Event:
    """Parse a `/global/event` (or `/event`) payload; unknown or broken ones stay generic."""
    payload = get_obj(data, "payload") if "payload" in data else data
    kind = get_str(payload, "type") or "unknown"
    props = get_obj(payload, "properties") or get_obj(payload, "data")
    base: dict[str, Any] = {
        "type": kind,
        "directory": get_str(data, "directory"),
        "properties": props,
        "raw": data,
    }
    try:
        return _typed_event(kind, props, base)
    except WireFormatError:
        return Event(**base)


def _typed_event(kind: str, props: Json, base: dict[str, Any]) -> Event:
    if kind == "message.part.updated":
        return PartUpdated(**base, part=parse_part(get_obj(props, "part")))
    if kind == "message.part.delta":
        part_id = get_str(props, "partID")
        return PartDelta(
            **base,
            part_id=PartID(part_id) if part_id else None,
            delta=get_str(props, "delta") or "",
        )
    if kind == "message.updated":
        return MessageUpdated(**base, info=MessageInfo.from_json(get_obj(props, "info")))
    if kind == "session.status":
        return SessionStatusChanged(
            **base, status=SessionStatus.from_json(get_obj(props, "status"))
        )
    if kind == "session.idle":
        return SessionIdle(**base)
    if kind in ("session.updated", "session.created"):
        return SessionUpdated(**base, session=Session.from_json(get_obj(props, "info")))
    if kind == "session.error":
        error = props.get("error")
        return SessionErrored(**base, error=error if isinstance(error, Mapping) else None)
    if kind == "permission.asked":
        return PermissionAsked(**base, request=PermissionRequest.from_json(props))
    if kind == "question.asked":
        return QuestionAsked(**base, request=QuestionRequest.from_json(props))
    if kind == "server.heartbeat":
        return Heartbeat(**base)
    return Event(**base)
