"""Markdown for text kimaki composes: escaping, code spans, one-line cuts."""

from __future__ import annotations

import re

from kimaki.render.graphemes import safe_cut

_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|\[\]<])")


def escape_markdown(text: str) -> str:
    """Escape what Discord would read as formatting, links, mentions or emoji in a summary.

    Only for text kimaki composes (file names, titles, values); assistant text is markdown
    written on purpose and passes through.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """`text` as inline code, delimited so backticks inside it cannot end it early.

    Discord has no inline span longer than two backticks (three open a block), so text with
    a double backtick falls back to escaped plain text.
    """
    if "`" not in text:
        return f"`{text}`" if text else ""
    if "``" in text:
        return escape_markdown(text)
    return f"`` {text} ``"


def one_line(text: str, limit: int) -> str:
    """The first non-blank line, whitespace collapsed, cut to `limit` with `…`."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    return line[: safe_cut(line, limit - 1, prefer_space=False)].rstrip() + "…"
