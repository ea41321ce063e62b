"""Choosing the answer for a request, statelessly, from the request's own messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .steps import Step, text

TITLE_SYSTEM_PREFIX = "You are a title generator"
SUMMARY_SYSTEM_PREFIX = "You are a context summarization agent"
TITLE_PREFIX = "Scripted: "
SUMMARY_TEXT = "## Objective\n- (scripted summary of the conversation)"
DONE_STEP = text("done")

Matcher = str | re.Pattern[str]
DefaultReply = Callable[[str], Sequence[Step]]


def echo_reply(prompt: str) -> list[Step]:
    """The fallback when no rule matches: a one-step answer naming the prompt."""
    return [text(f"ok: {prompt}")]


@dataclass(eq=False)
class Rule:
    """Script for turns whose newest user message matches ``match`` (substring or regex)."""

    match: Matcher | None
    steps: Sequence[Step]
    title: str | None = None

    def matches(self, prompt: str) -> bool:
        if self.match is None:
            return True
        if isinstance(self.match, str):
            return self.match in prompt
        return self.match.search(prompt) is not None

    def __repr__(self) -> str:
        pattern = self.match.pattern if isinstance(self.match, re.Pattern) else self.match
        return f"Rule({pattern!r}, {len(self.steps)} steps)"


@dataclass(frozen=True)
class Selection:
    """What a request gets: ``kind`` is "title", "summary" or "turn"; ``step_index`` counts from 0.

    Title and summary (compaction) requests never consume a rule's steps.
    """

    kind: str
    prompt: str
    rule: Rule | None
    step_index: int
    step: Step


def content_text(content: Any) -> str:
    """Text of a message ``content``: a string, or a list of parts whose text parts are joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def newest_user_index(messages: Sequence[dict[str, Any]]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return -1


def newest_user_text(messages: Sequence[dict[str, Any]]) -> str:
    i = newest_user_index(messages)
    return content_text(messages[i].get("content")) if i >= 0 else ""


def step_index(messages: Sequence[dict[str, Any]]) -> int:
    """Steps already answered in this turn = assistant messages after the newest user message."""
    start = newest_user_index(messages) + 1
    return sum(1 for m in messages[start:] if m.get("role") == "assistant")


def system_text(messages: Sequence[dict[str, Any]]) -> str:
    system = next((m for m in messages if m.get("role") == "system"), None)
    return content_text(system.get("content")) if system is not None else ""


def is_title_request(messages: Sequence[dict[str, Any]]) -> bool:
    return system_text(messages).startswith(TITLE_SYSTEM_PREFIX)


def is_summary_request(messages: Sequence[dict[str, Any]]) -> bool:
    """OpenCode's compaction agent (``/summarize``, or after a context overflow)."""
    return system_text(messages).startswith(SUMMARY_SYSTEM_PREFIX)


def default_title(prompt: str, words: int = 5) -> str:
    """A title tests can predict: the prefix plus the first few words of the prompt."""
    return TITLE_PREFIX + " ".join(prompt.split()[:words])


def find_rule(rules: Sequence[Rule], prompt: str) -> Rule | None:
    """The newest rule that matches wins, so a test can override what an earlier one set up."""
    return next((r for r in reversed(rules) if r.matches(prompt)), None)


def select(
    messages: Sequence[dict[str, Any]], rules: Sequence[Rule], default: DefaultReply
) -> Selection:
    """Pick the answer for a request; title and summary requests never consume a rule's steps."""
    prompt = newest_user_text(messages)
    if is_summary_request(messages):
        return Selection("summary", prompt, None, 0, text(SUMMARY_TEXT))
    if is_title_request(messages):
        prompt = title_prompt(messages)
        rule = find_rule(rules, prompt)
        title = rule.title if rule and rule.title else default_title(prompt)
        return Selection("title", prompt, rule, 0, text(title))
    rule = find_rule(rules, prompt)
    steps = rule.steps if rule else default(prompt)
    index = step_index(messages)
    step = steps[index] if index < len(steps) else DONE_STEP
    return Selection("turn", prompt, rule, index, step)


def title_prompt(messages: Sequence[dict[str, Any]]) -> str:
    """The user's words inside a title request (OpenCode wraps them; see the tests)."""
    return newest_user_text(messages)
