"""What Discord's CDN works out for an uploaded file: its content type and, for images, size.

Discord ignores the client's part header (discord.py sends `application/octet-stream` for
every file) and answers from the name and the bytes; text types carry `; charset=utf-8`.
"""

from __future__ import annotations

import mimetypes
import struct

# Built-in table only: the machine's /etc/mime.types must not change what tests see.
_TYPES = mimetypes.MimeTypes(filenames=())
_EXTRA = {".log": "text/plain", ".md": "text/markdown", ".jsonl": "application/x-ndjson"}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_OPAQUE = {None, "", "application/octet-stream"}


def content_type(filename: str, data: bytes, declared: str | None = None) -> str | None:
    """The type Discord reports for `filename`: by extension, then by magic bytes, then what
    the uploader declared; None when nothing is known (Discord then omits the field)."""
    dot = filename.rfind(".")
    ext = filename[dot:].lower() if dot > 0 else ""
    guessed = (_EXTRA.get(ext) or _TYPES.guess_type(f"x{ext}", strict=False)[0]) if ext else None
    guessed = guessed or _sniff(data) or (None if declared in _OPAQUE else declared)
    if guessed is not None and guessed.startswith("text/") and "charset" not in guessed:
        guessed += "; charset=utf-8"
    return guessed


def _sniff(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP from its header; None for anything else."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return int(width), int(height)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the segments to the first start-of-frame marker, which holds the dimensions."""
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None
