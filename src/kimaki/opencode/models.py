"""Typed views of OpenCode's JSON (observed on opencode-ai 1.18.33).

Every model keeps the payload it came from in `raw`, so fields this code does not
know survive a round trip and can be read later without a release. Parsing never
fails on an unknown part or event type: those become the generic `Part` / `Event`
with their `type` kept. Missing optional fields become None, not errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The id types live in the neutral `kimaki.ids`; named here too for this package's users.
from kimaki.ids import MessageID as MessageID
from kimaki.ids import PartID as PartID
from kimaki.ids import PermissionID as PermissionID
from kimaki.ids import QuestionID as QuestionID
from kimaki.ids import SessionID as SessionID

Json = Mapping[str, Any]


class WireFormatError(ValueError):
    """A payload lacks a field that identifies it (an id); nothing sensible can use it."""


# --- tolerant field readers


def _str(data: Json, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _required_str(data: Json, key: str, what: str) -> str:
    value = _str(data, key)
    if value is None:
        raise WireFormatError(f"{what} without {key!r}: {dict(data)!r:.200}")
    return value


def _int(data: Json, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    return None


def _obj(data: Json, key: str) -> Json:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _bool(data: Json, key: str) -> bool:
    return data.get(key) is True


# --- health, projects, sessions


@dataclass(frozen=True)
class Health:
    healthy: bool
    version: str
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Health:
        return cls(_bool(data, "healthy"), _str(data, "version") or "unknown", data)


@dataclass(frozen=True)
class Project:
    id: str
    worktree: str
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Project:
        return cls(_required_str(data, "id", "project"), _str(data, "worktree") or "", data)


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
        times = _obj(data, "time")
        parent = _str(data, "parentID")
        return cls(
            id=SessionID(_required_str(data, "id", "session")),
            directory=_str(data, "directory") or "",
            title=_str(data, "title") or "",
            parent_id=SessionID(parent) if parent else None,
            created=_int(times, "created") or 0,
            updated=_int(times, "updated") or _int(times, "created") or 0,
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
            type=_str(data, "type") or "unknown",
            attempt=_int(data, "attempt"),
            message=_str(data, "message"),
            next=_int(data, "next"),
            raw=data,
        )


# --- messages


@dataclass(frozen=True)
class MessageInfo:
    id: MessageID
    session_id: SessionID
    role: str
    created: int
    completed: int | None
    parent_id: MessageID | None
    finish: str | None
    error: Json | None
    raw: Json = field(repr=False)

    @property
    def error_name(self) -> str | None:
        return _str(self.error, "name") if self.error else None

    @property
    def error_message(self) -> str | None:
        """The human part of an error: `data.message` when OpenCode gives one."""
        if not self.error:
            return None
        return _str(_obj(self.error, "data"), "message") or _str(self.error, "message")

    @property
    def ends_turn(self) -> bool:
        """An assistant message that closes its turn (a tool step does not)."""
        if self.role != "assistant":
            return False
        if self.error:
            return True
        return self.completed is not None and self.finish != "tool-calls"

    @classmethod
    def from_json(cls, data: Json) -> MessageInfo:
        times = _obj(data, "time")
        parent = _str(data, "parentID")
        error = data.get("error")
        return cls(
            id=MessageID(_required_str(data, "id", "message")),
            session_id=SessionID(_str(data, "sessionID") or ""),
            role=_str(data, "role") or "unknown",
            created=_int(times, "created") or 0,
            completed=_int(times, "completed"),
            parent_id=MessageID(parent) if parent else None,
            finish=_str(data, "finish"),
            error=error if isinstance(error, Mapping) else None,
            raw=data,
        )


@dataclass(frozen=True)
class Part:
    """A message part. Subclasses add what kimaki reads; other types stay generic."""

    id: PartID
    session_id: SessionID
    message_id: MessageID
    type: str
    raw: Json = field(repr=False)

    @property
    def is_finished(self) -> bool:
        """Whether the part will not change any more (safe to post once)."""
        return True


@dataclass(frozen=True)
class TextPart(Part):
    text: str = ""
    synthetic: bool = False
    ignored: bool = False
    start: int | None = None
    end: int | None = None

    @property
    def is_finished(self) -> bool:
        return self.end is not None


@dataclass(frozen=True)
class ReasoningPart(Part):
    text: str = ""
    end: int | None = None

    @property
    def is_finished(self) -> bool:
        return self.end is not None


@dataclass(frozen=True)
class ToolState:
    """`pending` → `running` → `completed` | `error`."""

    status: str
    input: Json
    output: str | None
    title: str | None
    error: str | None
    metadata: Json
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> ToolState:
        return cls(
            status=_str(data, "status") or "unknown",
            input=_obj(data, "input"),
            output=_str(data, "output"),
            title=_str(data, "title"),
            error=_str(data, "error"),
            metadata=_obj(data, "metadata"),
            raw=data,
        )


@dataclass(frozen=True)
class ToolPart(Part):
    call_id: str = ""
    tool: str = ""
    state: ToolState = field(default_factory=lambda: ToolState.from_json({}))

    @property
    def is_finished(self) -> bool:
        return self.state.status in ("completed", "error")


@dataclass(frozen=True)
class FilePart(Part):
    mime: str = ""
    filename: str | None = None
    url: str = ""


def parse_part(data: Json) -> Part:
    """Build the most specific part type; unknown types stay a plain `Part`."""
    base: dict[str, Any] = {
        "id": PartID(_required_str(data, "id", "part")),
        "session_id": SessionID(_str(data, "sessionID") or ""),
        "message_id": MessageID(_str(data, "messageID") or ""),
        "type": _str(data, "type") or "unknown",
        "raw": data,
    }
    kind = str(base["type"])
    times = _obj(data, "time")
    if kind == "text":
        return TextPart(
            **base,
            text=_str(data, "text") or "",
            synthetic=_bool(data, "synthetic"),
            ignored=_bool(data, "ignored"),
            start=_int(times, "start"),
            end=_int(times, "end"),
        )
    if kind == "reasoning":
        return ReasoningPart(**base, text=_str(data, "text") or "", end=_int(times, "end"))
    if kind == "tool":
        return ToolPart(
            **base,
            call_id=_str(data, "callID") or "",
            tool=_str(data, "tool") or "",
            state=ToolState.from_json(_obj(data, "state")),
        )
    if kind == "file":
        return FilePart(
            **base,
            mime=_str(data, "mime") or "",
            filename=_str(data, "filename"),
            url=_str(data, "url") or "",
        )
    return Part(**base)


@dataclass(frozen=True)
class Message:
    info: MessageInfo
    parts: tuple[Part, ...]

    @classmethod
    def from_json(cls, data: Json) -> Message:
        parts = data.get("parts")
        return cls(
            info=MessageInfo.from_json(_obj(data, "info")),
            parts=tuple(parse_part(p) for p in parts if isinstance(p, Mapping))
            if isinstance(parts, list)
            else (),
        )

    def text(self) -> str:
        """The visible text a person typed or the model wrote (no synthetic parts)."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart) and not p.synthetic)


@dataclass(frozen=True)
class MessagePage:
    """One page of a session's messages, oldest first, and the cursor to older ones."""

    messages: tuple[Message, ...]
    next_cursor: str | None


# --- permissions and questions


@dataclass(frozen=True)
class PermissionRequest:
    id: PermissionID
    session_id: SessionID
    permission: str
    patterns: tuple[str, ...]
    always: tuple[str, ...]
    metadata: Json
    tool_call_id: str | None
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> PermissionRequest:
        return cls(
            id=PermissionID(_required_str(data, "id", "permission")),
            session_id=SessionID(_str(data, "sessionID") or ""),
            permission=_str(data, "permission") or "",
            patterns=_strings(data.get("patterns")),
            always=_strings(data.get("always")),
            metadata=_obj(data, "metadata"),
            tool_call_id=_str(_obj(data, "tool"), "callID"),
            raw=data,
        )


@dataclass(frozen=True)
class QuestionOption:
    label: str
    description: str


@dataclass(frozen=True)
class Question:
    question: str
    header: str
    options: tuple[QuestionOption, ...]
    multiple: bool
    custom: bool

    @classmethod
    def from_json(cls, data: Json) -> Question:
        options = data.get("options")
        return cls(
            question=_str(data, "question") or "",
            header=_str(data, "header") or "",
            options=tuple(
                QuestionOption(_str(o, "label") or "", _str(o, "description") or "")
                for o in (options if isinstance(options, list) else [])
                if isinstance(o, Mapping)
            ),
            multiple=_bool(data, "multiple"),
            custom=data.get("custom") is not False,
        )


@dataclass(frozen=True)
class QuestionRequest:
    id: QuestionID
    session_id: SessionID
    questions: tuple[Question, ...]
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> QuestionRequest:
        questions = data.get("questions")
        return cls(
            id=QuestionID(_required_str(data, "id", "question")),
            session_id=SessionID(_str(data, "sessionID") or ""),
            questions=tuple(
                Question.from_json(q)
                for q in (questions if isinstance(questions, list) else [])
                if isinstance(q, Mapping)
            ),
            raw=data,
        )


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


# --- events from /global/event


@dataclass(frozen=True)
class Event:
    """One event. `type` is OpenCode's; subclasses carry parsed properties."""

    type: str
    directory: str | None
    properties: Json
    raw: Json = field(repr=False)

    @property
    def session_id(self) -> SessionID | None:
        value = _str(self.properties, "sessionID")
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
    error: Json | None = None


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
    payload = _obj(data, "payload") if "payload" in data else data
    kind = _str(payload, "type") or "unknown"
    props = _obj(payload, "properties") or _obj(payload, "data")
    base: dict[str, Any] = {
        "type": kind,
        "directory": _str(data, "directory"),
        "properties": props,
        "raw": data,
    }
    try:
        return _typed_event(kind, props, base)
    except WireFormatError:
        return Event(**base)


def _typed_event(kind: str, props: Json, base: dict[str, Any]) -> Event:
    if kind == "message.part.updated":
        return PartUpdated(**base, part=parse_part(_obj(props, "part")))
    if kind == "message.part.delta":
        part_id = _str(props, "partID")
        return PartDelta(
            **base, part_id=PartID(part_id) if part_id else None, delta=_str(props, "delta") or ""
        )
    if kind == "message.updated":
        return MessageUpdated(**base, info=MessageInfo.from_json(_obj(props, "info")))
    if kind == "session.status":
        return SessionStatusChanged(**base, status=SessionStatus.from_json(_obj(props, "status")))
    if kind == "session.idle":
        return SessionIdle(**base)
    if kind in ("session.updated", "session.created"):
        return SessionUpdated(**base, session=Session.from_json(_obj(props, "info")))
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
