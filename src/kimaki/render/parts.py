"""OpenCode parts as Discord lines: assistant text, reasoning, prompts, notices, errors."""

from __future__ import annotations

import re

from kimaki.ids import Verbosity
from kimaki.opencode.models import Message, MessageInfo, Part, ReasoningPart, TextPart, ToolPart
from kimaki.render.graphemes import safe_cut
from kimaki.render.tools import TOOL_PREFIX, render_tool, tool_visible

USER_PROMPT_LIMIT = 1000

TEXT_PREFIX = "⬥"
USER_PREFIX = "»"
NOTICE_PREFIX = "⬦"
SESSION_ERROR_PREFIX = "✗"

_SESSION_ERROR_LIMIT = 1000


def render_part(part: Part, verbosity: Verbosity) -> str | None:
    """The line(s) for one part, or None when it shows nothing at this verbosity.

    Callers pass finished parts (`part.is_finished`): over REST an unfinished text part reads
    empty, and None here would then be mistaken for "nothing to show".
    """
    if isinstance(part, TextPart):
        return render_assistant_text(part.text) if _is_visible_text(part) else None
    if isinstance(part, ReasoningPart):
        if verbosity is Verbosity.TOOLS_AND_TEXT and part.text.strip():
            return f"{TOOL_PREFIX} thinking"
        return None
    if isinstance(part, ToolPart) and tool_visible(part.tool, verbosity):
        return render_tool(part)
    return None


def render_assistant_text(text: str) -> str | None:
    """`⬥ text`, without the bullet when the text opens with a markdown block."""
    body = text.strip()
    if not body:
        return None
    if _starts_with_markdown_block(body):
        return body
    return f"{TEXT_PREFIX} {body}"


def render_user_prompt(text: str) -> str:
    """A prompt typed outside Discord, shown so the thread reads as the whole conversation."""
    body = text.strip()
    if len(body) > USER_PROMPT_LIMIT:
        body = body[: safe_cut(body, USER_PROMPT_LIMIT, prefer_space=False)] + "..."
    return f"{USER_PREFIX} **user:** {body}"


def render_user_message(message: Message) -> str | None:
    """A user message's visible words as a prompt line (synthetic parts, like the tag, excluded)."""
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart) and _is_visible_text(p))
    return render_user_prompt(text) if text.strip() else None


def render_notice(text: str) -> str:
    """A line from kimaki itself (not from the session)."""
    return f"{NOTICE_PREFIX} {text.strip()}"


def render_session_error(message: str) -> str:
    """An error that ended the session's run; callers send it with a notification."""
    body = message.strip() or "unknown error"
    if len(body) > _SESSION_ERROR_LIMIT:
        body = body[: safe_cut(body, _SESSION_ERROR_LIMIT, prefer_space=True)] + "…"
    return f"{SESSION_ERROR_PREFIX} opencode session error: {body}"


def render_message_error(info: MessageInfo, *, aborted_by: str | None = None) -> str | None:
    """The line saying why an assistant message ended in error, or None when it did not.

    An abort is somebody's decision, not a failure, so it is a notice saying whose:
    `aborted_by` is who did it from Discord (e.g. "Ann with /abort"); without it the
    abort came from elsewhere (the terminal, another client of the server).
    """
    error = info.run_error
    if error is None:
        return None
    if error.kind == "aborted":
        who = f"by {aborted_by}" if aborted_by else "outside Discord (a terminal or another client)"
        return render_notice(f"aborted {who}")
    provider = info.model.provider_id if info.model else "the model provider"
    detail = _one_line(error.message)
    status = f" (HTTP {error.status_code})" if error.status_code else ""
    if error.kind == "auth":
        said = f"{provider} refused the API key{status}: {detail}. Check the key OpenCode uses"
    elif error.kind == "rate_limit":
        said = f"{provider} rate limit or quota reached{status}: {detail}"
    elif error.kind == "context_overflow":
        said = f"the conversation no longer fits the model's context window: {detail}"
    elif error.kind == "output_length":
        said = "the answer hit the model's output limit and was cut off"
    elif error.kind == "api":
        said = f"{provider} API error{status}: {detail}"
    else:
        said = f"opencode session error: {detail}"
    return f"{SESSION_ERROR_PREFIX} {_cut(said)}"


def render_compaction(*, overflow: bool, auto: bool) -> str:
    """OpenCode compacting the conversation (its summary replaces the history it keeps)."""
    if overflow:
        return render_notice(
            "context overflow: the conversation no longer fit the model's context window; "
            "OpenCode compacted it and carries on"
        )
    if auto:
        return render_notice("the context window was nearly full: OpenCode compacted it")
    return render_notice("conversation compacted")


def render_retry(message: str, attempt: int, seconds: float) -> str:
    """OpenCode waiting to try the model again (replaced with each attempt)."""
    wait = f"in {max(round(seconds), 0)} s" if seconds >= 0.5 else "now"
    reason = _one_line(message) or "the model provider failed"
    said = f"{reason}: OpenCode retries {wait} (attempt {attempt}); /abort stops it"
    return render_notice(_cut(said))


def _one_line(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


def _cut(text: str) -> str:
    if len(text) <= _SESSION_ERROR_LIMIT:
        return text
    return text[: safe_cut(text, _SESSION_ERROR_LIMIT, prefer_space=True)] + "…"


def _is_visible_text(part: TextPart) -> bool:
    return not part.synthetic and not part.ignored and bool(part.text.strip())


_MARKDOWN_BLOCK = re.compile(r"(#|>|\||```|[-*+](\s|$)|-#\s|\d{1,9}[.)](\s|$))")


def _starts_with_markdown_block(text: str) -> bool:
    """Headings, quotes, tables, fences, lists: a bullet in front would break them.

    `**bold**` or `*emphasis*` openers are inline, so they keep the bullet.
    """
    return _MARKDOWN_BLOCK.match(text) is not None
