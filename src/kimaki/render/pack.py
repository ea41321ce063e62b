"""Rendered items in as few Discord messages as possible, deterministically."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.render.split import split_message

K = TypeVar("K")


@dataclass(frozen=True)
class Piece(Generic[K]):
    """One piece of one rendered item: `index` of `count` pieces that item was split into."""

    key: K
    index: int
    count: int

    @property
    def is_last(self) -> bool:
        return self.index == self.count - 1


@dataclass(frozen=True)
class Chunk(Generic[K]):
    """One Discord message: its content and, in order, the pieces of items it carries."""

    content: str
    pieces: tuple[Piece[K], ...]
    notify: bool = False
    """Send with a notification; otherwise send silently (`suppress_notifications`)."""

    @property
    def keys(self) -> tuple[K, ...]:
        return tuple(p.key for p in self.pieces)


def pack(
    items: Iterable[tuple[K, str]],
    limit: int = MESSAGE_LIMIT,
    *,
    notify: Collection[K] = (),
) -> list[Chunk[K]]:
    """Rendered items, in order, in as few messages as possible (joined by newlines).

    An item is split only when it alone exceeds `limit`; its pieces are then packed like
    items, so its last piece may share a message with what follows. The result depends only
    on the input, so a retry builds the same messages. Blank items produce no piece. A chunk
    notifies when it carries the last piece of a key in `notify`.
    """
    chunks: list[Chunk[K]] = []
    content: list[str] = []
    pieces: list[Piece[K]] = []
    size = 0

    def flush() -> None:
        if content:
            loud = any(p.is_last and p.key in notify for p in pieces)
            chunks.append(Chunk("\n".join(content), tuple(pieces), loud))
        content.clear()
        pieces.clear()

    for key, text in items:
        parts = split_message(text, limit)
        for index, part in enumerate(parts):
            if content and size + 1 + len(part) > limit:
                flush()
            size = len(part) if not content else size + 1 + len(part)
            content.append(part)
            pieces.append(Piece(key, index, len(parts)))
    flush()
    return chunks


def batch(rendered: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """`pack` for callers that only need the message contents."""
    return [chunk.content for chunk in pack(enumerate(rendered), limit)]
