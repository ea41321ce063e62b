"""Server-sent events: the `data:` payloads of a byte stream."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol


class ByteChunks(Protocol):
    """What `aiohttp.StreamReader` offers (and a test can fake)."""

    def iter_any(self) -> AsyncIterable[bytes]: ...


async def sse_data(content: ByteChunks) -> AsyncIterator[str]:
    """Yield the `data:` payload of each server-sent event (multi-line data joined).

    Splits lines itself: aiohttp's line iterator refuses lines over 128 KiB, and a
    part carrying a big tool output easily exceeds that.
    """
    buffer = b""
    lines: list[str] = []
    async for chunk in content.iter_any():
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not line:
                if lines:
                    yield "\n".join(lines)
                    lines = []
            elif line.startswith("data:"):
                lines.append(line[5:].removeprefix(" "))
    if lines:
        yield "\n".join(lines)
