"""What one scripted model response says: steps and the helpers that build them.

A *step* is one answer to one ``/v1/chat/completions`` request. OpenCode turns each answer into
its own assistant message, so a turn that calls a tool and then replies is two steps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asks OpenCode to run; ``args`` become the JSON arguments."""

    name: str
    args: Mapping[str, Any]

    def arguments_json(self) -> str:
        return json.dumps(dict(self.args), ensure_ascii=False)


@dataclass(frozen=True)
class Usage:
    """Token counts the model reports in its last chunk (OpenAI's ``usage`` object).

    OpenCode asks for them (``stream_options.include_usage``) and turns them into the assistant
    message's ``tokens`` and ``cost``; ``cached_tokens`` and ``reasoning_tokens`` are parts of
    ``prompt_tokens`` and ``completion_tokens``, as OpenAI counts them.
    """

    prompt_tokens: int = 10
    completion_tokens: int = 5
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }
        if self.cached_tokens:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        if self.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return usage


@dataclass(frozen=True)
class HttpFault:
    """Answer with this HTTP error instead of the step (OpenAI's ``{"error": {...}}`` body)."""

    status: int
    message: str = "scripted failure"
    type: str = "server_error"
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


@dataclass(frozen=True)
class BrokenStream:
    """Start streaming the step, then drop the connection after ``after`` content chunks."""

    after: int = 1


Fault = HttpFault | BrokenStream


@dataclass(frozen=True)
class Step:
    """One model response: optional reasoning, text and tool calls, plus how to deliver it.

    ``chunk_delay`` slows the stream down (seconds between chunks); ``gate`` holds the stream after
    its first content chunk until the test sets the event; ``fault`` makes the first
    ``error_times`` identical requests fail instead (OpenCode retries 429/5xx and dropped
    streams with the same request); ``usage`` is what the last chunk reports.
    Steps combine with ``+``: ``reasoning("hmm") + text("ok")``, ``tool(...) + tool(...)``.
    """

    reasoning: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    chunk_delay: float = 0.0
    gate: asyncio.Event | None = field(default=None, compare=False)
    fault: Fault | None = None
    error_times: int = 1
    usage: Usage = Usage()

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    @property
    def http_error(self) -> int | None:
        """The HTTP status this step fails with first, if it does."""
        return self.fault.status if isinstance(self.fault, HttpFault) else None

    def __add__(self, other: Step) -> Step:
        return Step(
            reasoning=self.reasoning + other.reasoning,
            text=self.text + other.text,
            tool_calls=self.tool_calls + other.tool_calls,
            chunk_delay=max(self.chunk_delay, other.chunk_delay),
            gate=self.gate or other.gate,
            fault=self.fault or other.fault,
            error_times=max(self.error_times, other.error_times),
            usage=other.usage if self.usage == Usage() else self.usage,
        )

    def slow(self, chunk_delay: float) -> Step:
        """The same step, streamed with ``chunk_delay`` seconds between chunks."""
        return dataclasses.replace(self, chunk_delay=chunk_delay)

    def held(self, gate: asyncio.Event) -> Step:
        """The same step, paused after its first content chunk until ``gate`` is set."""
        return dataclasses.replace(self, gate=gate)

    def failing(self, status: int = 503, times: int = 1) -> Step:
        """The same step, but the first ``times`` attempts answer HTTP ``status``."""
        return self.faulty(HttpFault(status), times)

    def faulty(self, fault: Fault, times: int = 1) -> Step:
        """The same step, but the first ``times`` identical attempts fail with ``fault``."""
        return dataclasses.replace(self, fault=fault, error_times=times)

    def with_usage(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        cached_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> Step:
        """The same step, reporting these token counts."""
        usage = Usage(prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens)
        return dataclasses.replace(self, usage=usage)


def split_chunks(content: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Several strings are the chunks as given; one string is cut after each run of whitespace,
    so a long answer streams word by word and ``chunk_delay`` makes it visibly slow."""
    if not isinstance(content, str):
        return tuple(content)
    return tuple(piece for piece in re.findall(r"\S*\s*", content) if piece) or (content,)


def text(
    *chunks: str,
    chunk_delay: float = 0.0,
    gate: asyncio.Event | None = None,
    http_error: int | None = None,
) -> Step:
    """A plain text answer. ``text("Hello world")`` streams word by word; several arguments are
    sent as exactly those chunks."""
    pieces = split_chunks(chunks[0]) if len(chunks) == 1 else chunks
    step = Step(text=pieces, chunk_delay=chunk_delay, gate=gate)
    return step.failing(http_error) if http_error else step


def reasoning(
    thought: str,
    answer: str | None = None,
    *,
    chunk_delay: float = 0.0,
    gate: asyncio.Event | None = None,
) -> Step:
    """Reasoning (``delta.reasoning_content``), optionally followed by an ``answer`` text."""
    step = Step(reasoning=split_chunks(thought), chunk_delay=chunk_delay, gate=gate)
    return step + text(answer) if answer is not None else step


def tool_call(name: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Step:
    """A step calling one tool; arguments come as a mapping, keywords, or both."""
    return Step(tool_calls=(ToolCall(name, {**(args or {}), **kwargs}),))


tool = tool_call


def tools(*calls: Step) -> Step:
    """Several tool calls in one response: ``tools(tool("bash", ...), tool("read", ...))``."""
    combined = Step()
    for call in calls:
        combined += call
    return combined


def bash(command: str, **extra: Any) -> Step:
    """OpenCode's bash tool (1.18.33 takes ``command``, ``timeout`` in ms, ``workdir``)."""
    return tool_call("bash", command=command, **extra)


def read(file_path: str) -> Step:
    return tool_call("read", filePath=file_path)


def write(file_path: str, content: str) -> Step:
    return tool_call("write", filePath=file_path, content=content)


def edit(file_path: str, old: str, new: str, replace_all: bool = False) -> Step:
    args: dict[str, Any] = {"filePath": file_path, "oldString": old, "newString": new}
    if replace_all:
        args["replaceAll"] = True
    return tool_call("edit", args)


def http_error(status: int = 503, then: Step | None = None, times: int = 1) -> Step:
    """Fail ``times`` attempts with HTTP ``status``, then answer ``then`` (default "recovered")."""
    return (then or text("recovered")).failing(status, times)
