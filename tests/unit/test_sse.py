"""The SSE framing and the subscriber queue, without a server."""

from __future__ import annotations

import asyncio

from kimaki.opencode.events import Resync, Subscription
from kimaki.opencode.sse import sse_data


class FakeContent:
    """Delivers bytes in arbitrary chunk boundaries, like a socket does."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def iter_any(self) -> FakeContent:
        return self

    def __aiter__(self) -> FakeContent:
        return self

    async def __anext__(self) -> bytes:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)


async def collect(chunks: list[bytes]) -> list[str]:
    return [d async for d in sse_data(FakeContent(chunks))]  # type: ignore[arg-type]


async def test_events_split_across_chunks_and_multiline_data() -> None:
    stream = b'data: {"a":1}\n\n: comment\ndata: line1\ndata: line2\r\n\r\ndata: {"b":2}\n\n'
    pieces = [stream[i : i + 3] for i in range(0, len(stream), 3)]
    assert await collect(pieces) == ['{"a":1}', "line1\nline2", '{"b":2}']


async def test_a_line_far_over_aiohttps_limit_is_read_whole() -> None:
    big = "x" * 300_000
    assert await collect([b"data: " + big.encode(), b"\n\n"]) == [big]


async def test_a_subscriber_that_falls_behind_gets_one_resync() -> None:
    sub = Subscription(stream=None, maxsize=3)  # type: ignore[arg-type]
    for _ in range(4):  # one more than fits: the backlog is dropped for a Resync
        sub.offer(Resync("connected"))
    sub.offer(Resync("reconnected"))  # what comes after the overflow is kept, in order
    items = [await asyncio.wait_for(sub.get(), 1) for _ in range(2)]
    assert items == [Resync("overflow"), Resync("reconnected")]
    assert sub._queue.empty()
