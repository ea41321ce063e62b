"""A prompt as kimaki holds it (`Prompt`), and the OpenCode parts it becomes when sent.

A person's message becomes one `Prompt`: their words, the message they replied to, the
attachments saved when it arrived, and the `<discord-user/>` tag that names them and the
message (its id is the prompt's `source`, unique). Several queued prompts sent together
keep their own parts and tags, in order. A prompt that runs an OpenCode command
(`/<name>-cmd`) is sent alone, through OpenCode's command endpoint (`next_batch`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kimaki.attachments import Saved
from kimaki.opencode.models import ModelRef
from kimaki.opencode.prompt import FileInput, PromptPart, TextInput
from kimaki.origin import tag_part
from kimaki.prompt_options import PromptChoice
from kimaki.store import QueuedPrompt

INTERRUPT_PREFIX = "!now "
"""A message starting with this interrupts the running turn instead of waiting for it.
(A message starting with `!` alone is left for shell commands.)"""
QUOTE_LIMIT = 2000


@dataclass(frozen=True)
class Prompt:
    """What someone asks a session, with everything needed to send it later."""

    source: str
    """Unique per prompt: the Discord message id (a repeated delivery is queued once)."""
    author_id: int
    author_name: str
    text: str
    quote: str | None = None
    """The message this one replied to, as `name: words`."""
    files: tuple[Saved, ...] = ()
    interrupt: bool = False
    message: tuple[int, int] | None = None
    """(channel id, message id) of the Discord message, to mark it while it waits."""
    parts: tuple[FileInput, ...] = ()
    """File parts made by the caller (e.g. files a command names), sent as they are."""
    command: str | None = None
    """An OpenCode command to run with `text` as its arguments, instead of a prompt."""
    agent: str | None = None
    model: ModelRef | None = None
    """An agent or model this prompt names itself (`kimaki send --agent/--model`): it
    wins over the thread's choice for the turn it is sent in."""

    def extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {
            "quote": self.quote,
            "files": [f.to_json() for f in self.files],
            "message": list(self.message) if self.message else None,
            "parts": [p.to_json() for p in self.parts],
        }
        if self.command:
            extras["command"] = self.command
        if self.agent:
            extras["agent"] = self.agent
        if self.model:
            extras["model"] = str(self.model)
        return extras


def split_interrupt(text: str) -> tuple[bool, str]:
    """`!now fix the tests` → (True, "fix the tests")."""
    stripped = text.lstrip()
    if stripped.lower().startswith(INTERRUPT_PREFIX):
        return True, stripped[len(INTERRUPT_PREFIX) :].strip()
    return False, text


def files_of(row: QueuedPrompt) -> list[Saved]:
    files = row.extras.get("files") or []
    return [Saved.from_json(f) for f in files if isinstance(f, dict)]


def file_parts_of(row: QueuedPrompt) -> list[FileInput]:
    found = row.extras.get("parts") or []
    return [
        FileInput(str(p["mime"]), str(p["url"]), p.get("filename"))
        for p in found
        if isinstance(p, dict) and "mime" in p and "url" in p
    ]


def command_of(row: QueuedPrompt) -> str | None:
    command = row.extras.get("command")
    return command if isinstance(command, str) and command else None


def next_batch(waiting: Sequence[QueuedPrompt]) -> list[QueuedPrompt]:
    """What goes out together next: an OpenCode command alone, else the prompts up to the
    next command (a command is its own turn, with no tag to carry the others)."""
    if not waiting:
        return []
    if command_of(waiting[0]) is not None:
        return [waiting[0]]
    batch = []
    for row in waiting:
        if command_of(row) is not None:
            break
        batch.append(row)
    return batch


def message_of(row: QueuedPrompt) -> tuple[int, int] | None:
    message = row.extras.get("message")
    if isinstance(message, list) and len(message) == 2:
        return int(message[0]), int(message[1])
    return None


def own_choice(batch: Sequence[QueuedPrompt], choice: PromptChoice) -> PromptChoice:
    """The thread's choice, with the agent/model the newest prompt naming one names (a
    named model drops the thread's variant: a variant belongs to the model it was for)."""
    agent, model, variant = choice.agent, choice.model, choice.variant
    for row in batch:
        named_agent, named_model = row.extras.get("agent"), row.extras.get("model")
        if isinstance(named_agent, str) and named_agent:
            agent = named_agent
        if isinstance(named_model, str):
            with contextlib.suppress(ValueError):
                model, variant = ModelRef.parse(named_model), None
    return PromptChoice(model=model, agent=agent, variant=variant)


def words(row: QueuedPrompt) -> list[PromptPart]:
    """The quoted message, then the person's own words."""
    parts: list[PromptPart] = []
    quote = row.extras.get("quote")
    if isinstance(quote, str) and quote.strip():
        parts.append(TextInput(quoted(quote)))
    if row.text.strip():
        parts.append(TextInput(row.text))
    return parts


def quoted(quote: str) -> str:
    name, _, body = quote.partition(": ")
    body = body[:QUOTE_LIMIT]
    lines = "\n".join(f"> {line}" for line in body.splitlines() or [""])
    return f"(In reply to this message from {name}:)\n{lines}"


def tag(row: QueuedPrompt) -> TextInput:
    return tag_part(row.author_name, row.author_id, row.source, row.thread_id)


def summary(row: QueuedPrompt, limit: int = 80) -> str:
    """One line for /queue: the first words and how many files."""
    text = " ".join(row.text.split())
    command = command_of(row)
    if command is not None:
        text = f"/{command} {text}".strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    files = len(files_of(row))
    extra = f" (+{files} file{'s' if files != 1 else ''})" if files else ""
    return (text or "(no text)") + extra


def sources(rows: Sequence[QueuedPrompt]) -> set[str]:
    return {row.source for row in rows}
