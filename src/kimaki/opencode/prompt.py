"""What a prompt carries: the parts of `POST /session/{id}/prompt_async` as kimaki builds them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class FileInput:
    """A file part. OpenCode 1.18.33 takes a `data:` or `file://` URL (not `http(s)://`).

    An image or PDF reaches the model as itself only if the session's model declares that
    input (`Model.accepts`); otherwise the model gets a text saying it cannot read the file.
    A `file://` text file is read by OpenCode and inlined (as a `read` tool result).
    """

    mime: str
    url: str
    filename: str | None = None

    @classmethod
    def from_bytes(cls, data: bytes, mime: str, filename: str | None = None) -> FileInput:
        encoded = base64.b64encode(data).decode("ascii")
        return cls(mime, f"data:{mime};base64,{encoded}", filename)

    @classmethod
    def from_path(cls, path: Path, mime: str, filename: str | None = None) -> FileInput:
        return cls(mime, path.resolve().as_uri(), filename or path.name)

    def to_json(self) -> dict[str, Any]:
        part: dict[str, Any] = {"type": "file", "mime": self.mime, "url": self.url}
        if self.filename:
            part["filename"] = self.filename
        return part


PromptPart = TextInput | FileInput
