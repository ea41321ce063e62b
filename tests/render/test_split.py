"""Splitting: messages Discord accepts, fences kept whole, graphemes never cut."""

from __future__ import annotations

import pytest

from kimaki.render import (
    MESSAGE_LIMIT,
    is_grapheme_boundary,
    split_message,
)
from tests.render.helpers import assert_valid_chunks, fences_balanced


def test_the_fence_checker_itself_detects_an_open_fence() -> None:
    assert fences_balanced("a\n```py\nx\n```\nb") and fences_balanced("```js```")
    assert not fences_balanced("a\n```py\nx") and not fences_balanced("````\nx\n```")


def _words(chunks: list[str]) -> list[str]:
    return [w for c in chunks for w in c.split() if not w.startswith("```")]


def test_short_text_is_one_message() -> None:
    assert split_message("hello\nworld") == ["hello\nworld"]
    assert split_message("") == []
    assert split_message("\n \n") == []


def test_split_is_on_line_boundaries() -> None:
    lines = [f"line {i:04d} " + "x" * 80 for i in range(100)]
    chunks = split_message("\n".join(lines))
    assert_valid_chunks(chunks)
    assert len(chunks) == 5  # 9,000 chars of 90-char lines: 22 lines per message
    assert [ln for c in chunks for ln in c.split("\n")] == lines


def test_long_fenced_code_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"    value_{i} = compute({i})  # " + "c" * 40 for i in range(200))
    original = f"Here is the file:\n\n```python\n{code}\n```\n\nThat's all."
    chunks = split_message(original)
    assert len(chunks) > 3
    assert_valid_chunks(chunks)
    assert chunks[0].startswith("Here is the file:")
    for chunk in chunks[1:]:
        assert chunk.startswith("```python\n")
    for chunk in chunks[:-1]:
        assert chunk.endswith("\n```")
    assert chunks[-1].endswith("```\n\nThat's all.")
    kept = [ln for c in chunks for ln in c.split("\n") if ln.startswith("    value_")]
    assert kept == code.split("\n")


def test_fence_opened_on_the_last_line_that_fits_moves_to_the_next_message() -> None:
    filler = "f" * (MESSAGE_LIMIT - 10)  # the opener and room for its closer just fit
    chunks = split_message(f"{filler}\n```sh\n" + "echo hi\n" * 10 + "```")
    assert_valid_chunks(chunks)
    assert chunks[0] == filler
    assert chunks[1].startswith("```sh\necho hi")


def test_unclosed_fence_is_closed_at_the_end() -> None:
    assert split_message("```js\nlet x") == ["```js\nlet x\n```"]


def test_a_10000_character_line_is_cut_into_full_messages() -> None:
    chunks = split_message("a" * 10_000)
    assert [len(c) for c in chunks] == [2000] * 5


def test_a_long_line_is_cut_after_whitespace() -> None:
    words = " ".join(f"w{i:05d}" for i in range(2000))
    chunks = split_message(words)
    assert_valid_chunks(chunks)
    assert all(c.rstrip().endswith(tuple("0123456789")) for c in chunks)  # no word is cut
    assert _words(chunks) == words.split()


def test_a_long_line_inside_a_fence_is_cut_and_stays_fenced() -> None:
    chunks = split_message("```\n" + "z" * 5000 + "\n```")
    assert_valid_chunks(chunks)
    assert all(c.startswith("```\n") and c.endswith("\n```") for c in chunks)
    assert "".join(c[4:-4] for c in chunks) == "z" * 5000


@pytest.mark.parametrize(
    "cluster",
    [
        "👨‍👩‍👧‍👦",  # ZWJ sequence
        "👍🏽",  # skin tone modifier
        "❤️",  # variation selector
        "1️⃣",  # keycap
        "🇯🇵",  # flag: two regional indicators
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # tag sequence
        "e\u0301\u0301",  # combining marks
        "\ud83d\ude00",  # a surrogate pair kept as two code points
        "\u1100\u1161\u11a8",  # Hangul jamo
    ],
)
@pytest.mark.parametrize("offset", range(0, 9))
def test_cuts_never_split_a_grapheme(cluster: str, offset: int) -> None:
    body = "a" * (MESSAGE_LIMIT - offset) + cluster * 4 + "b" * 50
    chunks = split_message(body)
    assert len(chunks) == 2 and all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert "".join(chunks) == body
    assert sum(c.count(cluster) for c in chunks) == 4  # a cut inside one would lose a match


def test_crlf_is_one_grapheme() -> None:
    assert not is_grapheme_boundary("a\r\nb", 2)
    assert is_grapheme_boundary("a\r\nb", 1) and is_grapheme_boundary("a\r\nb", 3)


def test_consecutive_flags_pair_from_the_left() -> None:
    flags = "🇯🇵🇫🇷🇩🇪"
    assert [is_grapheme_boundary(flags, i) for i in range(7)] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
    ]


def test_split_rejects_a_limit_too_small_for_fences() -> None:
    with pytest.raises(ValueError):
        split_message("x", 20)
