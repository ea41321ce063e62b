"""What a prompt carries: the parts of `POST /session/{id}/prompt_async` as kimaki builds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TextInput:
    """A text part for a prompt. `synthetic` parts reach the model but are not the user's words."""

    text: str
    synthetic: bool = False

    def to_json(self) -> dict[str, Any]:
        part: dict[str, Any] = {"type": "text", "text": self.text}
        if self.synthetic:
            part["synthetic"] = True
        return part
