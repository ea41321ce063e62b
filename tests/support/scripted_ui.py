"""A person at the setup's prompts, scripted: answers in order, everything said recorded.

Each answer names the kind of prompt it expects, so a step that asks something else
(or asks more) fails the test instead of getting a wrong answer. An answer may be a
callable, run when the prompt comes (e.g. flip a portal switch before pressing Enter).
The real terminal UI is driven through a pseudo-terminal in tests/setup/test_wizard_pty.py.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kimaki.setup.ui import Option, SetupCancelled

T = TypeVar("T")


@dataclass
class Answer:
    kind: str  # secret | confirm | pause | one | many | path | cancel
    value: Any = None
    before: Callable[[], Any] | None = None
    """Run when the prompt comes, before answering (may be async)."""


@dataclass
class ScriptedUI:
    answers: list[Answer]
    said: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    waits: list[str] = field(default_factory=list)

    @property
    def transcript(self) -> str:
        return "\n".join(self.said)

    def say(self, text: str = "") -> None:
        self.said.append(text)

    async def _next(self, kind: str, question: str) -> Any:
        self.asked.append(question)
        assert self.answers, f"unexpected {kind} prompt {question!r}\n{self.transcript}"
        answer = self.answers.pop(0)
        if answer.before is not None:
            result = answer.before()
            if inspect.isawaitable(result):
                await result
        if answer.kind == "cancel":
            raise SetupCancelled(answer.value or "Ctrl-C", 130)
        assert answer.kind == kind, f"{kind} prompt {question!r}, scripted {answer.kind}"
        return answer.value

    async def secret(self, question: str) -> str:
        return str(await self._next("secret", question))

    async def confirm(self, question: str, *, default: bool) -> bool:
        return bool(await self._next("confirm", question))

    async def pause(self, message: str) -> None:
        await self._next("pause", message)

    async def choose_one(self, question: str, options: Sequence[Option[T]]) -> T:
        pick = await self._next("one", question)
        return next(o.value for o in options if pick in o.title)

    async def choose_many(self, question: str, options: Sequence[Option[T]]) -> list[T]:
        """The scripted value lists option titles (or parts of them) to pick."""
        picks: list[str] = await self._next("many", question)
        self.said.append("options: " + " | ".join(o.title for o in options))
        return [o.value for o in options if any(p == o.title for p in picks)]

    async def path(self, question: str) -> str:
        return str(await self._next("path", question))

    async def wait_for(
        self, message: str, poll: Callable[[], Awaitable[T | None]], *, interval: float
    ) -> T:
        self.waits.append(message)
        async with asyncio.timeout(60):
            while True:  # as the terminal does: the thing waited for is remote
                result = await poll()
                if result is not None:
                    return result
                await asyncio.sleep(min(interval, 0.1))
