"""Turns in OpenCode's messages: where one starts and ends, and the figures of a finished one.

A turn starts with a prompt someone wrote (a user message with words or files of its
own) and ends with the assistant message that closes it without an error. What OpenCode
adds in between belongs to the turn: tool steps, and after a context overflow the
compaction request, its summary and the synthetic "continue" prompt.

Figures follow what OpenCode reports: the duration from the prompt to the last
message's completion, the model and agent of that message, the context its last step
held (`Tokens.context`, as OpenCode's own UI shows it) against the model's limit from
`GET /config/providers`, and the cost summed over the turn's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kimaki.opencode.models import FilePart, Message, MessageInfo, ModelRef, TextPart
from kimaki.render.footer import TurnFigures

ContextLimit = Callable[[ModelRef], int | None]


def is_prompt(message: Message) -> bool:
    """A user message someone wrote (not a compaction request, not a synthetic nudge)."""
    if message.info.role != "user":
        return False
    return any(
        (isinstance(p, TextPart) and not p.synthetic and p.text.strip()) or isinstance(p, FilePart)
        for p in message.parts
    )


def closes_turn(info: MessageInfo) -> bool:
    """An assistant message that ends its turn normally: a footer goes under it.

    Not a tool step (`tool-calls`), not a compaction summary, not a message that ended
    with an error (the error line is the turn's last word), and not one that OpenCode
    left without a finish reason (the empty step before a context overflow's compaction).
    """
    return (
        info.role == "assistant"
        and info.completed is not None
        and info.error is None
        and info.finish is not None
        and info.finish != "tool-calls"
        and not info.summary
    )


def turn_start(messages: Sequence[Message], end: int) -> int | None:
    """The index of the prompt that began the turn ending at `end`, if `messages` hold it."""
    for index in range(end - 1, -1, -1):
        if is_prompt(messages[index]):
            return index
    return None


def figures(
    messages: Sequence[Message], start: int | None, end: int, context_limit: ContextLimit
) -> TurnFigures:
    """The footer's figures for the turn from `start` (None: not known) to `end`."""
    final = messages[end].info
    steps = [m.info for m in messages[(start or 0) : end + 1] if m.info.role == "assistant"]
    begun = messages[start].info.created if start is not None else None
    duration = final.completed - begun if begun and final.completed else None
    cost = sum(info.cost or 0.0 for info in steps)
    filled = next(
        (i.tokens for i in reversed(steps) if i.tokens is not None and i.tokens.output > 0), None
    )
    return TurnFigures(
        duration_ms=duration,
        model=final.model.model_id if final.model else None,
        agent=final.agent,
        context_tokens=filled.context if filled is not None else None,
        context_limit=context_limit(final.model) if final.model else None,
        cost=cost or None,
    )
