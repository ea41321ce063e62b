"""What every split or packed message must satisfy (shared by the split and pack tests)."""

from __future__ import annotations

import re

from kimaki.render import MESSAGE_LIMIT

_OPENER = re.compile(r"^\s*(`{3,10})[^`]*$")
_CLOSER = re.compile(r"^\s*(`{3,10})\s*$")


def fences_balanced(chunk: str) -> bool:
    """Every fence opened in the chunk is closed in it (the documented fence-line rules)."""
    open_run = 0
    for ln in chunk.split("\n"):
        if open_run:
            closer = _CLOSER.match(ln)
            if closer and len(closer.group(1)) >= open_run:
                open_run = 0
        elif opener := _OPENER.match(ln):
            open_run = len(opener.group(1))
    return open_run == 0


def assert_valid_chunks(chunks: list[str], limit: int = MESSAGE_LIMIT) -> None:
    for chunk in chunks:
        assert 0 < len(chunk) <= limit
        assert chunk.strip() and chunk == chunk.strip("\n")
        assert fences_balanced(chunk), chunk
        assert not 0xD800 <= ord(chunk[-1]) <= 0xDBFF, "ends in half a surrogate pair"
        assert not 0xDC00 <= ord(chunk[0]) <= 0xDFFF, "starts with half a surrogate pair"


def is_subsequence(needle: str, haystack: str) -> bool:
    rest = iter(haystack)
    return all(char in rest for char in needle)


def letters(text: str) -> str:
    """Text without whitespace and backtick runs, to compare what survived a split."""
    return re.sub(r"`{3,}|\s", "", text)
