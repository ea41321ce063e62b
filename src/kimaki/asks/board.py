"""How the asks service shows a prompt, without knowing Discord: the `PromptBoard`.

The service says *what* a prompt message carries (its text, and which controls: the
permission buttons, or the menus of the questions still unanswered); the bot's
`kimaki.bot.prompt_board` turns that into a Discord message with components.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kimaki.opencode.models import Question
from kimaki.store import DiscordMessageID, PromptRecord


@dataclass(frozen=True)
class PermissionButtons:
    request_id: str


@dataclass(frozen=True)
class QuestionMenus:
    request_id: str
    questions: Sequence[Question]
    answered: Sequence[bool]
    """Per question: answered already (its menu is left off)."""


Controls = PermissionButtons | QuestionMenus


class PromptBoard(Protocol):
    async def post(self, record: PromptRecord, controls: Controls) -> DiscordMessageID | None:
        """Send the prompt into its thread (notifying; nonce from the request id), or None
        if Discord refused (logged)."""
        ...

    async def edit(self, record: PromptRecord, content: str, controls: Controls | None) -> None:
        """Show new text; `controls` None removes them. Failures are logged, not raised."""
        ...
