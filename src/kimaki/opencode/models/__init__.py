"""Typed views of OpenCode's JSON (observed on opencode-ai 1.18.33).

Every model keeps the payload it came from in `raw`, so fields this code does not
know survive a round trip and can be read later without a release. Parsing never
fails on an unknown part or event type: those become the generic `Part` / `Event`
with their `type` kept. Missing optional fields become None, not errors.

Import from here; the submodules only keep each file to one kind of payload.
"""

from .asks import PermissionRequest, Question, QuestionOption, QuestionRequest
from .catalog import (
    Agent,
    Command,
    Model,
    ModelCost,
    OpenCodeConfig,
    Provider,
    ProviderCatalog,
    Skill,
)
from .events import (
    Event,
    Heartbeat,
    MessageUpdated,
    PartDelta,
    PartUpdated,
    PermissionAsked,
    QuestionAsked,
    SessionErrored,
    SessionIdle,
    SessionStatusChanged,
    SessionUpdated,
    parse_event,
)
from .ids import MessageID, ModelRef, PartID, PermissionID, QuestionID, SessionID
from .messages import Message, MessageInfo, MessagePage
from .parts import (
    FilePart,
    Part,
    PatchPart,
    ReasoningPart,
    StepFinishPart,
    TextPart,
    ToolFile,
    ToolPart,
    ToolState,
    parse_part,
)
from .sessions import FileDiff, Health, Project, Session, SessionPage, SessionStatus
from .usage import ErrorKind, RunError, Tokens
from .wire import Json, WireFormatError

__all__ = [
    "Agent",
    "Command",
    "ErrorKind",
    "Event",
    "FileDiff",
    "FilePart",
    "Health",
    "Heartbeat",
    "Json",
    "Message",
    "MessageID",
    "MessageInfo",
    "MessagePage",
    "MessageUpdated",
    "Model",
    "ModelCost",
    "ModelRef",
    "OpenCodeConfig",
    "Part",
    "PartDelta",
    "PartID",
    "PartUpdated",
    "PatchPart",
    "PermissionAsked",
    "PermissionID",
    "PermissionRequest",
    "Project",
    "Provider",
    "ProviderCatalog",
    "Question",
    "QuestionAsked",
    "QuestionID",
    "QuestionOption",
    "QuestionRequest",
    "ReasoningPart",
    "RunError",
    "Session",
    "SessionErrored",
    "SessionID",
    "SessionIdle",
    "SessionPage",
    "SessionStatus",
    "SessionStatusChanged",
    "SessionUpdated",
    "Skill",
    "StepFinishPart",
    "TextPart",
    "Tokens",
    "ToolFile",
    "ToolPart",
    "ToolState",
    "WireFormatError",
    "parse_event",
    "parse_part",
]
