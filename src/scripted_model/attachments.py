"""Images and files a request carried, as OpenCode's OpenAI-compatible provider sends them.

An image arrives as ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,…"}}``
and a PDF as ``{"type": "file", "file": {"filename": "doc.pdf", "file_data": "data:…"}}``.
A model without image (or PDF) input never gets these: OpenCode puts a text part saying
``ERROR: Cannot read "name" (this model does not support image input)`` in their place.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """One image or file content part; ``data`` is decoded when the URL is a base64 data URL."""

    kind: str  # "image" or "file"
    mime: str
    url: str
    filename: str | None = None
    data: bytes | None = None


def parse_data_url(url: str) -> tuple[str, bytes | None]:
    """The mime type and bytes of a ``data:`` URL (bytes None when it is not base64 data)."""
    if not url.startswith("data:") or "," not in url:
        return "", None
    head, payload = url[5:].split(",", 1)
    mime = head.split(";", 1)[0]
    if not head.endswith(";base64"):
        return mime, None
    try:
        return mime, base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return mime, None


def attachments(messages: Sequence[dict[str, Any]]) -> list[Attachment]:
    """Every image and file content part of the messages, in order."""
    found: list[Attachment] = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and (item := _attachment(part)) is not None:
                found.append(item)
    return found


def _attachment(part: dict[str, Any]) -> Attachment | None:
    if part.get("type") == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str):
            mime, data = parse_data_url(url)
            return Attachment("image", mime, url, None, data)
    if part.get("type") == "file" and isinstance(part.get("file"), dict):
        file = part["file"]
        url = file.get("file_data") or file.get("url") or ""
        mime, data = parse_data_url(url) if isinstance(url, str) else ("", None)
        name = file.get("filename")
        return Attachment("file", mime, str(url), name if isinstance(name, str) else None, data)
    return None
