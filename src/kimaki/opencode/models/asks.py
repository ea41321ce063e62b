"""Permission and question requests: what blocks a session until someone answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .ids import PermissionID, QuestionID, SessionID
from .wire import Json, get_bool, get_obj, get_str, get_strs, need_str


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
            id=PermissionID(need_str(data, "id", "permission")),
            session_id=SessionID(get_str(data, "sessionID") or ""),
            permission=get_str(data, "permission") or "",
            patterns=get_strs(data.get("patterns")),
            always=get_strs(data.get("always")),
            metadata=get_obj(data, "metadata"),
            tool_call_id=get_str(get_obj(data, "tool"), "callID"),
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
            question=get_str(data, "question") or "",
            header=get_str(data, "header") or "",
            options=tuple(
                QuestionOption(get_str(o, "label") or "", get_str(o, "description") or "")
                for o in (options if isinstance(options, list) else [])
                if isinstance(o, Mapping)
            ),
            multiple=get_bool(data, "multiple"),
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
            id=QuestionID(need_str(data, "id", "question")),
            session_id=SessionID(get_str(data, "sessionID") or ""),
            questions=tuple(
                Question.from_json(q)
                for q in (questions if isinstance(questions, list) else [])
                if isinstance(q, Mapping)
            ),
            raw=data,
        )
