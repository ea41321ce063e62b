"""Prompt parts for saved attachments, given what the session's model can take in.

- An image (png, jpeg, gif, webp) or a PDF the model accepts: a file part with a `data:`
  URL and its mime type (OpenCode 1.18.33 takes no `http(s)` URL), images made to fit.
- One it does not accept: OpenCode would put an error text in its place, so the agent
  gets the saved file's path instead, and the caller tells the thread (`unseen`).
- UTF-8 text up to 64 KB: inlined, with its file name.
- Anything else (binary, or longer text): its saved path, name, type and size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kimaki.opencode.prompt import FileInput, PromptPart, TextInput

from . import images
from .kinds import Kind, decoded_text
from .saving import Saved

Accepts = Callable[[str], bool]
"""Whether the session's model takes a file of this mime type as itself."""


@dataclass
class Built:
    parts: list[PromptPart] = field(default_factory=list)
    unseen: list[Saved] = field(default_factory=list)
    """Images and PDFs the model cannot take, passed by path instead."""
    unreadable: list[tuple[Saved, str]] = field(default_factory=list)
    """Files that could not be read back (with why); passed by path if they still exist."""


def build(saved: Sequence[Saved], accepts: Accepts) -> Built:
    """The parts for `saved`, in order (blocking: reads files and scales images)."""
    built = Built()
    for item in saved:
        try:
            _add(built, item, accepts)
        except (OSError, images.UnreadableImage) as exc:
            built.unreadable.append((item, str(exc) or type(exc).__name__))
            if item.path.is_file():
                built.parts.append(TextInput(by_path(item)))
    return built


def _add(built: Built, item: Saved, accepts: Accepts) -> None:
    if item.kind in (Kind.IMAGE, Kind.PDF):
        if not accepts(item.mime):
            built.unseen.append(item)
            built.parts.append(TextInput(by_path(item, unseen=True)))
            return
        data = item.path.read_bytes()
        mime = item.mime
        if item.kind is Kind.IMAGE:
            data, mime = images.fit(data, mime)
        built.parts.append(FileInput.from_bytes(data, mime, item.filename))
        return
    if item.kind is Kind.TEXT:
        text = decoded_text(item.path.read_bytes())
        if text is not None:
            built.parts.append(TextInput(inline(item.filename, text)))
            return
    built.parts.append(TextInput(by_path(item)))


def inline(filename: str, text: str) -> str:
    body = text if text.endswith("\n") else text + "\n"
    return f'<attached-file name="{_attr(filename)}">\n{body}</attached-file>'


def by_path(item: Saved, *, unseen: bool = False) -> str:
    why = " (this model cannot take it in directly)" if unseen else ""
    return (
        f"Attached file {item.filename} ({item.mime}, {human_size(item.size)}){why}, "
        f"saved at: {item.path}"
    )


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
