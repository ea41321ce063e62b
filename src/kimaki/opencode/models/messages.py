"""Messages: the info OpenCode keeps per user or assistant message, with its parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .ids import MessageID, ModelRef, SessionID
from .parts import Part, TextPart, parse_part
from .usage import RunError, Tokens
from .wire import Json, get_bool, get_float, get_int, get_obj, get_str, need_str


@dataclass(frozen=True)
class MessageInfo:
    """A user or assistant message's info.

    `agent`, `model` and `variant` are what the message was sent with (user) or answered by
    (assistant). `tokens` and `cost` are an assistant message's usage, summed over its steps;
    `summary` marks the assistant message a compaction wrote.
    """

    id: MessageID
    session_id: SessionID
    role: str
    created: int
    completed: int | None
    parent_id: MessageID | None
    finish: str | None
    error: Json | None
    raw: Json = field(repr=False)
    agent: str | None = None
    model: ModelRef | None = None
    variant: str | None = None
    cost: float | None = None
    tokens: Tokens | None = None
    summary: bool = False

    @property
    def run_error(self) -> RunError | None:
        return RunError.from_json(self.error) if self.error else None

    @property
    def error_name(self) -> str | None:
        return get_str(self.error, "name") if self.error else None

    @property
    def error_message(self) -> str | None:
        """The human part of an error: `data.message` when OpenCode gives one."""
        if not self.error:
            return None
        return get_str(get_obj(self.error, "data"), "message") or get_str(self.error, "message")

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
        times = get_obj(data, "time")
        parent = get_str(data, "parentID")
        error = data.get("error")
        user_model = get_obj(data, "model")
        tokens = data.get("tokens")
        return cls(
            id=MessageID(need_str(data, "id", "message")),
            session_id=SessionID(get_str(data, "sessionID") or ""),
            role=get_str(data, "role") or "unknown",
            created=get_int(times, "created") or 0,
            completed=get_int(times, "completed"),
            parent_id=MessageID(parent) if parent else None,
            finish=get_str(data, "finish"),
            error=error if isinstance(error, Mapping) else None,
            raw=data,
            agent=get_str(data, "agent"),
            model=ModelRef.from_json(user_model) or ModelRef.from_json(data),
            variant=get_str(data, "variant") or get_str(user_model, "variant"),
            cost=get_float(data, "cost"),
            tokens=Tokens.from_json(tokens) if isinstance(tokens, Mapping) else None,
            summary=get_bool(data, "summary"),
        )


@dataclass(frozen=True)
class Message:
    info: MessageInfo
    parts: tuple[Part, ...]

    @classmethod
    def from_json(cls, data: Json) -> Message:
        parts = data.get("parts")
        return cls(
            info=MessageInfo.from_json(get_obj(data, "info")),
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
