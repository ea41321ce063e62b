"""Distinct id types, so a session id is never passed where a message id belongs."""

from __future__ import annotations

from typing import NewType

SessionID = NewType("SessionID", str)
MessageID = NewType("MessageID", str)
PartID = NewType("PartID", str)
PermissionID = NewType("PermissionID", str)
QuestionID = NewType("QuestionID", str)
