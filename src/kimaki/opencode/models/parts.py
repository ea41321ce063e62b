"""Message parts: text, reasoning, tools and files; other types stay a generic `Part`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ids import MessageID, PartID, SessionID
from .usage import Tokens
from .wire import Json, get_bool, get_float, get_int, get_obj, get_str, get_strs, need_str


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
class ToolFile:
    """A file a completed tool returned with its result (`state.attachments`): an image
    `webfetch` fetched, an MCP tool's screenshot, an image or PDF `read` looked at.
    OpenCode 1.18.33 gives it a `data:` URL (an MCP tool may give an `http(s)` one)."""

    mime: str
    url: str
    filename: str | None = None


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
    attachments: tuple[ToolFile, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> ToolState:
        return cls(
            status=get_str(data, "status") or "unknown",
            input=get_obj(data, "input"),
            output=get_str(data, "output"),
            title=get_str(data, "title"),
            error=get_str(data, "error"),
            metadata=get_obj(data, "metadata"),
            raw=data,
            attachments=_tool_files(data.get("attachments")),
        )


def _tool_files(value: object) -> tuple[ToolFile, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        ToolFile(get_str(item, "mime") or "", get_str(item, "url") or "", get_str(item, "filename"))
        for item in value
        if isinstance(item, dict) and get_str(item, "url")
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


@dataclass(frozen=True)
class StepFinishPart(Part):
    """The end of one model call: why it stopped, what it cost, its tokens."""

    reason: str = ""
    cost: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)


@dataclass(frozen=True)
class PatchPart(Part):
    """Files a step changed (absolute paths), with the snapshot hash after it."""

    hash: str = ""
    files: tuple[str, ...] = ()


def parse_part(data: Json) -> Part:
    """Build the most specific part type; unknown types stay a plain `Part`."""
    base: dict[str, Any] = {
        "id": PartID(need_str(data, "id", "part")),
        "session_id": SessionID(get_str(data, "sessionID") or ""),
        "message_id": MessageID(get_str(data, "messageID") or ""),
        "type": get_str(data, "type") or "unknown",
        "raw": data,
    }
    kind = str(base["type"])
    times = get_obj(data, "time")
    if kind == "text":
        return TextPart(
            **base,
            text=get_str(data, "text") or "",
            synthetic=get_bool(data, "synthetic"),
            ignored=get_bool(data, "ignored"),
            start=get_int(times, "start"),
            end=get_int(times, "end"),
        )
    if kind == "reasoning":
        return ReasoningPart(**base, text=get_str(data, "text") or "", end=get_int(times, "end"))
    if kind == "tool":
        return ToolPart(
            **base,
            call_id=get_str(data, "callID") or "",
            tool=get_str(data, "tool") or "",
            state=ToolState.from_json(get_obj(data, "state")),
        )
    if kind == "file":
        return FilePart(
            **base,
            mime=get_str(data, "mime") or "",
            filename=get_str(data, "filename"),
            url=get_str(data, "url") or "",
        )
    if kind == "step-finish":
        return StepFinishPart(
            **base,
            reason=get_str(data, "reason") or "",
            cost=get_float(data, "cost") or 0.0,
            tokens=Tokens.from_json(get_obj(data, "tokens")),
        )
    if kind == "patch":
        return PatchPart(
            **base, hash=get_str(data, "hash") or "", files=get_strs(data.get("files"))
        )
    return Part(**base)
