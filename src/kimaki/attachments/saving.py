"""Attachments saved under the data dir, one folder per session, readable only by the user.

They are saved when the message arrives: Discord's attachment URLs expire, and a queued
message may wait. The agent gets the path of what it cannot see inline, so the saved
file is also what it reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kimaki.ids import SessionID
from kimaki.util.private_files import private_dir, write_private

from .kinds import Kind, classify

NAME_LIMIT = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Saved:
    """One attachment as kimaki keeps it: what it is, and where its bytes are."""

    filename: str
    """The name the person gave it (shown to the agent)."""
    mime: str
    kind: Kind
    path: Path
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "mime": self.mime,
            "kind": self.kind.value,
            "path": str(self.path),
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Saved:
        return cls(
            filename=str(data["filename"]),
            mime=str(data["mime"]),
            kind=Kind(data["kind"]),
            path=Path(data["path"]),
            size=int(data["size"]),
        )


def safe_name(filename: str) -> str:
    """A file name that stays inside its folder and reads like the original."""
    name = _UNSAFE.sub("_", Path(filename).name).strip("._") or "attachment"
    if len(name) > NAME_LIMIT:
        _stem, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        name = name[: NAME_LIMIT - len(keep) - 1].rstrip("._") + (f".{keep}" if keep else "")
    return name


def session_files(files_dir: Path, session_id: SessionID) -> Path:
    return private_dir(files_dir / safe_name(session_id))


def save(
    files_dir: Path,
    session_id: SessionID,
    source: str,
    index: int,
    filename: str,
    content_type: str | None,
    data: bytes,
) -> Saved:
    """Write an attachment's bytes (0600) and say what it is."""
    kind, mime = classify(filename, content_type, data)
    folder = session_files(files_dir, session_id)
    path = folder / f"{safe_name(source)}-{index}-{safe_name(filename)}"
    write_private(path, data)
    return Saved(filename=filename, mime=mime, kind=kind, path=path, size=len(data))
