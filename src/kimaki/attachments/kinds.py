"""What an attachment is, for the agent: an image, a PDF, text to inline, or a file to point at.

Discord reports a content type for every attachment (from the name and the bytes), text
with a charset (`text/plain; charset=utf-8`); the bytes decide when it is missing or
generic. Text means UTF-8 without NUL bytes, whatever the type says, so a `.py` or `.log`
reported as `application/octet-stream` is still read as text.
"""

from __future__ import annotations

import enum
import mimetypes

INLINE_TEXT_LIMIT = 64 * 1024
"""Text files up to this size (bytes) go into the prompt; larger ones are passed by path."""

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PDF_TYPE = "application/pdf"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", PDF_TYPE),
)


class Kind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    TEXT = "text"
    """UTF-8 text up to `INLINE_TEXT_LIMIT`: inlined into the prompt."""
    FILE = "file"
    """Anything else (binary, or text too long to inline): passed by its path."""


def bare_mime(content_type: str | None) -> str:
    """`text/plain; charset=utf-8` → `text/plain` (lower case); "" when unknown."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff(data: bytes) -> str | None:
    """The type the first bytes show, for the kinds that matter here."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decoded_text(data: bytes) -> str | None:
    """The text of `data` if it is UTF-8 without NUL bytes (a BOM is dropped)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def classify(filename: str, content_type: str | None, data: bytes) -> tuple[Kind, str]:
    """The kind and the mime type to use for an attachment's bytes."""
    sniffed = sniff(data)
    reported = bare_mime(content_type) or mimetypes.guess_type(filename)[0] or ""
    if sniffed in IMAGE_TYPES:
        return Kind.IMAGE, sniffed
    if sniffed == PDF_TYPE:
        return Kind.PDF, PDF_TYPE
    text = decoded_text(data)
    if text is not None:
        mime = reported if reported.startswith("text/") else "text/plain"
        return (Kind.TEXT if len(data) <= INLINE_TEXT_LIMIT else Kind.FILE), mime
    return Kind.FILE, reported or "application/octet-stream"
