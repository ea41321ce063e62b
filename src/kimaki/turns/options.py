"""Which model, agent and variant a thread's prompts use, when someone chose one.

The choice belongs to the thread's settings (`/model`, `/agent`: `kimaki.prompt_options`);
the prompt path only asks, once per prompt it sends, through this protocol (which
`kimaki.prompt_options.PromptOptions` fits). `NoOverride` leaves everything to OpenCode:
the session keeps the model it had, the default agent answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kimaki.opencode.models import ModelRef
from kimaki.store import ChannelID, SessionID


@dataclass(frozen=True)
class PromptChoice:
    """What one prompt names (each None: leave it to OpenCode)."""

    model: ModelRef | None = None
    agent: str | None = None
    variant: str | None = None


class Choice(Protocol):
    @property
    def model(self) -> ModelRef | None: ...

    @property
    def agent(self) -> str | None: ...

    @property
    def variant(self) -> str | None: ...


class PromptOptions(Protocol):
    async def for_prompt(
        self, session_id: SessionID, channel_id: ChannelID | None, directory: str
    ) -> Choice: ...


class NoOverride:
    async def for_prompt(
        self, session_id: SessionID, channel_id: ChannelID | None, directory: str
    ) -> PromptChoice:
        return PromptChoice()
