"""Distinct id types, so a session id is never passed where a message id belongs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, NewType

SessionID = NewType("SessionID", str)
MessageID = NewType("MessageID", str)
PartID = NewType("PartID", str)
PermissionID = NewType("PermissionID", str)
QuestionID = NewType("QuestionID", str)


class ModelRef(NamedTuple):
    """A model as OpenCode names it: provider id and model id, written `provider/model`."""

    provider_id: str
    model_id: str

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.model_id}"

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """`provider/model` (the model id may itself contain slashes)."""
        provider, _, model = text.strip().partition("/")
        if not provider or not model:
            raise ValueError(f"not a provider/model name: {text!r}")
        return cls(provider, model)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], model_key: str = "modelID") -> ModelRef | None:
        provider, model = data.get("providerID"), data.get(model_key)
        if isinstance(provider, str) and isinstance(model, str) and provider and model:
            return cls(provider, model)
        return None

    def to_json(self) -> dict[str, str]:
        """The `model` object of a prompt body."""
        return {"providerID": self.provider_id, "modelID": self.model_id}
