"""Markdown helpers for text kimaki composes."""

from __future__ import annotations

from kimaki.render import (
    code_span,
    escape_markdown,
)


def test_escape_markdown_neutralises_formatting_links_and_mentions() -> None:
    assert escape_markdown(r"a*b_c~d`e|f[g]h<@1>\ ") == r"a\*b\_c\~d\`e\|f\[g\]h\<@1>\\ "


def test_code_span_delimits_backticks() -> None:
    assert code_span("ls") == "`ls`"
    assert code_span("echo `x`") == "`` echo `x` ``"
    assert code_span("a``b") == r"a\`\`b"
