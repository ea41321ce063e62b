"""Faults, usage, attachments, summaries, the one-turn-per-session guard and mid-stream pauses,
over HTTP without OpenCode."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from scripted_model import (
    SESSION_HEADER,
    SUMMARY_TEXT,
    Attachment,
    ScriptedModel,
    Usage,
    auth_error,
    broken_stream,
    context_overflow,
    rate_limited,
    server_errors,
    text,
)
from scripted_model.attachments import attachments, parse_data_url
from scripted_model.rules import echo_reply, select

SUMMARY_SYSTEM = {"role": "system", "content": "You are a context summarization agent. Go."}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


@pytest.fixture
async def served() -> AsyncIterator[tuple[ScriptedModel, aiohttp.ClientSession]]:
    async with ScriptedModel() as model, aiohttp.ClientSession() as http:
        yield model, http


async def post(
    http: aiohttp.ClientSession,
    model: ScriptedModel,
    words: str,
    session: str | None = None,
) -> tuple[int, dict[str, str], str]:
    body = {"model": "scripted-1", "messages": [user(words)], "stream": True}
    headers = {SESSION_HEADER: session} if session else {}
    async with http.post(f"{model.base_url}/chat/completions", json=body, headers=headers) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, await r.text()


def payloads(raw: str) -> list[Any]:
    events = [e.removeprefix("data: ") for e in raw.split("\n\n") if e.startswith("data: ")]
    return [e if e == "[DONE]" else json.loads(e) for e in events]


# -- pure parts ----------------------------------------------------------------------------------


def test_usage_is_reported_the_openai_way() -> None:
    assert Usage().to_json() == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert text("x").with_usage(100, 20, cached_tokens=30, reasoning_tokens=4).usage.to_json() == {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "prompt_tokens_details": {"cached_tokens": 30},
        "completion_tokens_details": {"reasoning_tokens": 4},
    }


def test_attachments_are_read_from_image_and_file_parts() -> None:
    png = base64.b64encode(b"PNGDATA").decode()
    messages = [
        {"role": "system", "content": "sys"},
        user(
            [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                {
                    "type": "file",
                    "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JQ=="},
                },
            ]
        ),
        user("no parts here"),
    ]
    assert attachments(messages) == [
        Attachment("image", "image/png", f"data:image/png;base64,{png}", None, b"PNGDATA"),
        Attachment("file", "application/pdf", "data:application/pdf;base64,JQ==", "a.pdf", b"%"),
    ]
    assert parse_data_url("data:text/plain,hi") == ("text/plain", None)
    assert parse_data_url("https://example.com/x.png") == ("", None)
    assert parse_data_url("data:image/png;base64,%%%") == ("image/png", None)


def test_summary_requests_get_a_fixed_summary_and_no_rule_step() -> None:
    chosen = select([SUMMARY_SYSTEM, user("Here is the conversation so far")], [], echo_reply)
    assert (chosen.kind, "".join(chosen.step.text)) == ("summary", SUMMARY_TEXT)


# -- over HTTP -----------------------------------------------------------------------------------


async def test_http_faults_carry_openai_error_bodies_and_retry_after(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule("auth", [auth_error()])
    model.add_rule("limit", [rate_limited(retry_after=2)])
    model.add_rule("overflow", [context_overflow()])
    model.add_rule("burst", [server_errors(text("after the burst"), times=2)])
    status, _, body = await post(http, model, "auth")
    assert (status, json.loads(body)["error"]["code"]) == (401, "invalid_api_key")
    status, headers, _ = await post(http, model, "limit")
    assert (status, headers["retry-after"]) == (429, "2")
    status, _, body = await post(http, model, "overflow")
    assert (status, json.loads(body)["error"]["code"]) == (400, "context_length_exceeded")
    assert [(await post(http, model, "burst"))[0] for _ in range(3)] == [500, 500, 200]


async def test_a_broken_stream_drops_after_partial_content(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule("break", [broken_stream(text("one two three"), after=1)])
    with pytest.raises(aiohttp.ClientPayloadError):
        await post(http, model, "break")
    status, _, raw = await post(http, model, "break")
    events = payloads(raw)
    assert status == 200 and events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1]) == (
        "one two three"
    )


async def test_the_last_chunk_reports_the_steps_usage(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule("count", [text("counted").with_usage(7, 3)])
    _, _, raw = await post(http, model, "count")
    assert payloads(raw)[-2]["usage"]["prompt_tokens"] == 7


async def test_two_turns_of_one_session_at_once_are_recorded_as_an_overlap(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    gate = asyncio.Event()
    model.add_rule("hold", [text("held answer", gate=gate)])
    first = asyncio.create_task(post(http, model, "hold", session="ses_a"))
    held = await model.wait_for_request(lambda r: r.prompt == "hold", timeout=2)
    await asyncio.wait_for(held.paused.wait(), 2)
    assert held.session_id == "ses_a"
    await post(http, model, "other session", session="ses_b")
    assert model.overlaps == []
    second = asyncio.create_task(post(http, model, "hold", session="ses_a"))
    await model.wait_for_request(lambda r: r is not held and r.prompt == "hold", timeout=2)
    gate.set()
    await asyncio.gather(first, second)
    [overlap] = model.overlaps_of("ses_a")
    assert overlap.running is held and overlap.second.prompt == "hold"
    await post(http, model, "after", session="ses_a")
    assert len(model.overlaps) == 1, "a finished turn no longer counts"
