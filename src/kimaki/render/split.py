"""Fence-safe splitting of one text into Discord-sized messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.render.graphemes import safe_cut

MIN_SPLIT_LIMIT = 100
"""Smallest limit `split_message` accepts: room for a reopened fence, its closer and content."""

_MAX_FENCE_RUN = 10
_FENCE_OPEN = re.compile(r"^\s*(`{3,10})([^`]*)$")
_FENCE_CLOSE = re.compile(r"^\s*(`{3,10})\s*$")
"""Fence lines: a run of 3 to 10 backticks starting a line, an info string without backticks.

A line that is only a run closes an open fence whose run is not longer; inside a fence an
opener-like line (`\u0060\u0060\u0060js`) is code. Runs of more than ten backticks and
backticks in the middle of a line are left to Discord.
"""


@dataclass(frozen=True)
class _Fence:
    opener: str
    """The line that opened it."""
    marker: str
    """Its backtick run; the closer added at a cut."""
    reopen: str
    """What reopens it at the top of the next message: the run and the language."""


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` as messages of at most `limit` code points, cut on line boundaries.

    A line longer than a message is cut after whitespace when there is some in the second
    half of the room, else at the last grapheme boundary. A code fence open at a cut is
    closed there and reopened (with its language) in the next message; one left open at the
    end is closed. Chunks never start or end with blank lines and are never blank. Nothing
    but whitespace at the cuts is lost.
    """
    if limit < MIN_SPLIT_LIMIT:
        raise ValueError(f"limit must be at least {MIN_SPLIT_LIMIT}, got {limit}")
    return _Splitter(limit).split(text)


class _Splitter:
    """One pass over the lines, tracking the open fence and the message being filled."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.lines: list[str] = []
        self.fence: _Fence | None = None
        self.head_only = False
        """The message holds only the fence line carried over from the previous one."""
        self.head_carried = False
        """That line is the text's own opener (moved), not a reopen kimaki made up."""
        self.opened_last = False
        """The message's last line opened the current fence (a block with nothing in it yet)."""

    def split(self, text: str) -> list[str]:
        for line in text.split("\n"):
            rest: str | None = line
            while rest is not None:
                rest = self._place(rest)
        self._flush(final=True)
        return self.chunks

    def _place(self, line: str) -> str | None:
        """Put `line` into the current message, or its head; return what is left to place.

        A line too long for a message is cut, and its head is then placed as a line in its
        own right: a head that looks like a fence line acts as one, so the fence count of
        every message stays true to what Discord will draw.
        """
        fence = self.fence
        if fence is not None and _closes(line, fence):
            self._add_closer(line.strip())
            return None
        after = fence if fence is not None else _opens(line, self.limit)
        if self._fits(line, after):
            self._append(line, after, opens=fence is None and after is not None)
            return None
        if not self._is_empty():
            self._flush()
            return line
        # Room for the head whatever it turns out to be, even a fence opener needing a closer.
        reserve = self._reserve(after)
        if line.lstrip().startswith("```"):
            reserve = max(reserve, 1 + _MAX_FENCE_RUN)
        room = self.limit - self._used() - (1 if self.lines else 0) - reserve
        cut = safe_cut(line, room, prefer_space=True)
        self._place(line[:cut])
        self._flush()
        return line[cut:]

    def _add_closer(self, closer: str) -> None:
        if self._fits(closer, None):
            self._append(closer, None, opens=False)
            return
        self._flush()  # closes the fence with its own marker: the longer real closer is dropped
        self.lines, self.fence = [], None
        self.head_only = self.head_carried = self.opened_last = False

    def _fits(self, line: str, after: _Fence | None) -> bool:
        used = self._used() + (1 if self.lines else 0) + len(line)
        return used + self._reserve(after) <= self.limit

    def _reserve(self, fence: _Fence | None) -> int:
        return 0 if fence is None else 1 + len(fence.marker)

    def _used(self) -> int:
        return sum(len(ln) for ln in self.lines) + max(len(self.lines) - 1, 0)

    def _is_empty(self) -> bool:
        return not self.lines or self.head_only

    def _append(self, line: str, after: _Fence | None, opens: bool) -> None:
        self.lines.append(line)
        self.fence = after
        self.head_only = False
        self.opened_last = opens

    def _flush(self, *, final: bool = False) -> None:
        fence, lines, head, carried = self.fence, list(self.lines), None, False
        if fence is not None:
            head = fence.reopen
            if self.head_only and not (final and self.head_carried):
                lines = []  # only the reopened fence: nothing to send
            elif self.opened_last and not final and len(fence.opener) <= self.limit // 4:
                head, carried = lines.pop(), True  # an empty block's opener moves on
            else:
                lines.append(fence.marker)
        content = "\n".join(lines).strip("\n")
        if content.strip():
            self.chunks.append(content)
        self.lines = [head] if head is not None else []
        self.head_only = head is not None
        self.head_carried = carried
        self.opened_last = False


def _opens(line: str, limit: int) -> _Fence | None:
    match = _FENCE_OPEN.match(line)
    if match is None:
        return None
    marker, info = match.group(1), match.group(2).split()
    reopen = marker + info[0] if info else marker
    if len(reopen) > limit // 4:
        reopen = marker
    return _Fence(line, marker, reopen)


def _closes(line: str, fence: _Fence) -> bool:
    match = _FENCE_CLOSE.match(line)
    return match is not None and len(match.group(1)) >= len(fence.marker)
