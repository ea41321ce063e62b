"""OpenAI chat-completion chunks for a step, as plain dicts (no I/O, so they are easy to test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .steps import Step, Usage

DONE = b"data: [DONE]\n\n"


def encode(payload: dict[str, Any]) -> bytes:
    """One server-sent event carrying ``payload``."""
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def _chunk(
    completion_id: str, model: str, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _argument_pieces(arguments: str) -> list[str]:
    """Arguments arrive in two pieces, as real providers split them, to exercise reassembly."""
    middle = len(arguments) // 2
    return [arguments[:middle], arguments[middle:]] if middle else [arguments]


def content_chunks(
    step: Step, completion_id: str, model: str, call_ids: list[str]
) -> Iterator[dict[str, Any]]:
    """Every chunk of ``step`` before the finishing one: role, reasoning, text, then tool calls.

    Built lazily, so a step that breaks (say, arguments that are not JSON) breaks mid-stream like
    a real provider would. ``call_ids`` names each tool call and must be unique per session.
    """
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    for piece in step.reasoning:
        yield _chunk(completion_id, model, {"reasoning_content": piece})
    for piece in step.text:
        yield _chunk(completion_id, model, {"content": piece})
    for index, (call, call_id) in enumerate(zip(step.tool_calls, call_ids, strict=True)):
        head = {"index": index, "id": call_id, "type": "function"}
        pieces = _argument_pieces(call.arguments_json())
        first = {**head, "function": {"name": call.name, "arguments": pieces[0]}}
        yield _chunk(completion_id, model, {"tool_calls": [first]})
        for piece in pieces[1:]:
            more = {"index": index, "function": {"arguments": piece}}
            yield _chunk(completion_id, model, {"tool_calls": [more]})


def finish_chunk(
    completion_id: str, model: str, reason: str, usage: Usage | None = None
) -> dict[str, Any]:
    """The last chunk: an empty delta, the finish reason and the step's token usage."""
    chunk = _chunk(completion_id, model, {}, reason)
    chunk["usage"] = (usage or Usage()).to_json()
    return chunk


def completion(step: Step, completion_id: str, model: str, call_ids: list[str]) -> dict[str, Any]:
    """The whole step as one non-streaming ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(step.text)}
    if step.reasoning:
        message["reasoning_content"] = "".join(step.reasoning)
    if step.tool_calls:
        message["tool_calls"] = [
            {
                "id": cid,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_json()},
            }
            for c, cid in zip(step.tool_calls, call_ids, strict=True)
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
        "usage": step.usage.to_json(),
    }
