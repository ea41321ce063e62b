"""What permission and question prompts say (plain text; the components are the bot's)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kimaki.discord_limits import CHOICES_LIMIT, MESSAGE_LIMIT
from kimaki.opencode.models import PermissionRequest

DECISIONS = {
    "once": "✅ **Accepted once**",
    "always": "✅ **Accepted always**",
    "reject": "❌ **Denied**",
}


def timeout_message(minutes: float) -> str:
    """What the model reads when nobody answered a permission in time."""
    return (
        f"Nobody answered this permission request in Discord within {minutes:g} minutes, "
        "so kimaki denied it automatically. The user may be away: do not retry it; continue "
        "without it or ask the user in your reply."
    )


def permission_text(request: PermissionRequest) -> str:
    lines = [f"🔐 **Permission needed: `{request.permission or '?'}`**"]
    if request.patterns:
        shown = ", ".join(f"`{p}`" for p in request.patterns[:10])
        more = f" (+{len(request.patterns) - 10} more)" if len(request.patterns) > 10 else ""
        lines.append(f"Patterns: {shown}{more}")
    details = [
        f"{key}: `{short(value)}`"
        for key in ("command", "filepath", "filePath", "path", "url")
        if isinstance(value := request.metadata.get(key), str) and value
    ]
    lines += details[:2]
    if request.tool_call_id:
        lines.append(f"Tool call: `{request.tool_call_id}`")
    if request.always and request.always != request.patterns:
        lines.append("Accept always covers: " + ", ".join(f"`{p}`" for p in request.always[:5]))
    return "\n".join(lines)[: MESSAGE_LIMIT - 300]


def question_text(questions: Sequence[Any], answers: Sequence[Sequence[str] | None]) -> str:
    blocks = []
    for index, question in enumerate(questions):
        lines = [f"❓ **{question.header or 'Question'}**"]
        if question.question:
            lines.append(question.question)
        for option in question.options[:CHOICES_LIMIT]:
            described = f" — {option.description}" if option.description else ""
            lines.append(f"• **{option.label}**{described}")
        if question.multiple:
            lines.append("_(pick one or more)_")
        answer = answers[index] if index < len(answers) else None
        if answer is not None:
            lines.append("→ " + (", ".join(f"**{a}**" for a in answer) or "_(no answer)_"))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)[: MESSAGE_LIMIT - 200]


def decision_note(reply: str, who: str, feedback: str | None) -> str:
    note = DECISIONS[reply] + f" by **{who}** · {when()}"
    if feedback:
        note += f"\n> {short(feedback, 500)}"
    return note


def answered_note(who: str) -> str:
    return f"✅ answered by **{who}** · {when()}"


def elsewhere_note() -> str:
    return f"⬦ answered outside Discord · {when()}"


def expired_note(minutes: float) -> str:
    return (
        f"⌛ **Expired**: nobody answered within {minutes:g} minutes, "
        f"so it was denied automatically · {when()}"
    )


def with_note(content: str, note: str) -> str:
    return f"{content}\n\n{note}"[:MESSAGE_LIMIT]


def when() -> str:
    """A Discord timestamp of now, shown in each reader's own time zone."""
    return f"<t:{int(time.time())}:f>"


def short(value: str, limit: int = 200) -> str:
    value = value.replace("`", "'").replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"
