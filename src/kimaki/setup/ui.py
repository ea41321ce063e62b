"""How the guided setup talks to the person at the terminal.

The steps speak to a `UI`; `TerminalUI` is the real one, on questionary (prompt_toolkit):
hidden paste, yes/no, multi-select with the keyboard, path completion. Tests drive the
steps in-process with a scripted `UI`, and the real one through a pseudo-terminal.

Ctrl-C or Ctrl-D at any prompt becomes `SetupCancelled`, which the flow turns into one
short line: never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TextIO, TypeVar

import questionary
from prompt_toolkit.styles import Style

T = TypeVar("T")

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class SetupCancelled(Exception):
    """The person pressed Ctrl-C or Ctrl-D at a prompt."""

    def __init__(self, key: str, exit_code: int) -> None:
        super().__init__(key)
        self.key = key
        self.exit_code = exit_code


@dataclass(frozen=True)
class Option(Generic[T]):
    title: str
    value: T
    checked: bool = False


class UI(Protocol):
    def say(self, text: str = "") -> None: ...

    async def secret(self, question: str) -> str: ...

    async def confirm(self, question: str, *, default: bool) -> bool: ...

    async def pause(self, message: str) -> None:
        """Wait for Enter."""

    async def choose_one(self, question: str, options: Sequence[Option[T]]) -> T: ...

    async def choose_many(self, question: str, options: Sequence[Option[T]]) -> list[T]: ...

    async def path(self, question: str) -> str:
        """A directory path, with completion; "" when the person is done."""

    async def wait_for(
        self, message: str, poll: Callable[[], Awaitable[T | None]], *, interval: float
    ) -> T:
        """Poll until a result, showing that kimaki is waiting (a spinner)."""


_STYLE = Style([("qmark", "fg:#5f87af"), ("answer", "fg:#d7af5f bold")])


class TerminalUI:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def secret(self, question: str) -> str:
        answer = await _ask(questionary.password(question, style=_STYLE))
        return str(answer)

    async def confirm(self, question: str, *, default: bool) -> bool:
        return bool(await _ask(questionary.confirm(question, default=default, style=_STYLE)))

    async def pause(self, message: str) -> None:
        await _ask(questionary.text(message, style=_STYLE, qmark="»"))

    async def choose_one(self, question: str, options: Sequence[Option[T]]) -> T:
        choices = [questionary.Choice(o.title, value=i) for i, o in enumerate(options)]
        index = await _ask(questionary.select(question, choices=choices, style=_STYLE))
        return options[int(index)].value

    async def choose_many(self, question: str, options: Sequence[Option[T]]) -> list[T]:
        choices = [
            questionary.Choice(o.title, value=i, checked=o.checked) for i, o in enumerate(options)
        ]
        picked = await _ask(
            questionary.checkbox(
                question,
                choices=choices,
                style=_STYLE,
                instruction="(↑/↓ move, space picks, enter confirms)",
            )
        )
        return [options[int(i)].value for i in picked]

    async def path(self, question: str) -> str:
        answer = await _ask(questionary.path(question, only_directories=True, style=_STYLE))
        return str(answer).strip()

    async def wait_for(
        self, message: str, poll: Callable[[], Awaitable[T | None]], *, interval: float
    ) -> T:
        spinning = asyncio.create_task(self._spin(message))
        try:
            while True:  # the thing waited for is remote: polling is the only way
                result = await poll()
                if result is not None:
                    return result
                await asyncio.sleep(interval)
        finally:
            spinning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await spinning
            self.out.write("\r\x1b[2K")
            self.out.flush()

    async def _spin(self, message: str) -> None:
        frame = 0
        while True:
            self.out.write(f"\r{SPINNER[frame % len(SPINNER)]} {message}")
            self.out.flush()
            frame += 1
            await asyncio.sleep(0.1)


async def _ask(question: questionary.Question) -> Any:
    try:
        return await question.unsafe_ask_async()
    except KeyboardInterrupt:
        raise SetupCancelled("Ctrl-C", 130) from None
    except EOFError:
        raise SetupCancelled("Ctrl-D", 1) from None


class _BelowError(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


@contextlib.contextmanager
def quiet_console() -> Iterator[None]:
    """Keep log lines (OpenCode booting, …) off the terminal while the setup asks things.

    They still go to the log file; errors still show.
    """
    consoles = [
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler  # not the file handlers, which subclass it
    ]
    quiet = _BelowError()
    for handler in consoles:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in consoles:
            handler.removeFilter(quiet)
