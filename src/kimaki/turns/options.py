"""Which model, agent and variant a thread's prompts use, when someone chose one.

The choice belongs to the thread's settings (`/model`, `/agent`: `kimaki.prompt_options`
once it lands); the prompt path only asks. `NoOverride` leaves everything to OpenCode:
the session keeps the model it had, the default agent answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kimaki.opencode.models import ModelRef
from kimaki.store import ThreadRecord


@dataclass(frozen=True)
class PromptChoice:
    model: ModelRef | None = None
    agent: str | None = None
    variant: str | None = None


class PromptOptions(Protocol):
    def for_thread(self, record: ThreadRecord) -> PromptChoice: ...


class NoOverride:
    def for_thread(self, record: ThreadRecord) -> PromptChoice:
        return PromptChoice()
