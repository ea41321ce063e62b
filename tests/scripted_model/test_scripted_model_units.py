"""The scripted model's pure parts and its HTTP behaviour, without OpenCode."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from scripted_model import (
    ScriptedModel,
    Step,
    ToolCall,
    bash,
    default_title,
    opencode_provider_config,
    reasoning,
    text,
    tool,
    tools,
)
from scripted_model.rules import Rule, echo_reply, select, step_index
from scripted_model.sse import content_chunks, finish_chunk

SYSTEM = {"role": "system", "content": "You are opencode"}
TITLE_SYSTEM = {"role": "system", "content": "You are a title generator. You output ONLY a title."}


def user(words: str) -> dict[str, Any]:
    return {"role": "user", "content": words}


def assistant_calls(*ids: str) -> dict[str, Any]:
    calls = [
        {"id": i, "type": "function", "function": {"name": "bash", "arguments": "{}"}} for i in ids
    ]
    return {"role": "assistant", "content": "", "tool_calls": calls}


def tool_result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": "output"}


# -- steps ---------------------------------------------------------------------------------------


def test_text_streams_word_by_word_unless_chunks_are_given() -> None:
    assert text("Hello big world").text == ("Hello ", "big ", "world")
    assert text("He", "llo").text == ("He", "llo")
    assert "".join(text("a " * 50).text) == "a " * 50


def test_steps_combine_with_plus() -> None:
    step = reasoning("hmm") + text("ok") + tool("read", filePath="/x")
    assert step.reasoning == ("hmm",)
    assert step.text == ("ok",)
    assert step.tool_calls == (ToolCall("read", {"filePath": "/x"}),)
    assert step.finish_reason == "tool_calls"
    assert tools(bash("ls"), bash("pwd")).tool_calls == (
        ToolCall("bash", {"command": "ls"}),
        ToolCall("bash", {"command": "pwd"}),
    )


def test_delivery_options_are_kept() -> None:
    gate = asyncio.Event()
    step = text("x").slow(0.5).held(gate).failing(429, times=2)
    assert (step.chunk_delay, step.gate, step.http_error, step.error_times) == (0.5, gate, 429, 2)


# -- step selection ------------------------------------------------------------------------------


def test_step_index_counts_assistant_messages_since_the_newest_user_message() -> None:
    first = [SYSTEM, user("a")]
    assert step_index(first) == 0
    after_tools = [*first, assistant_calls("c1", "c2"), tool_result("c1"), tool_result("c2")]
    assert step_index(after_tools) == 1
    assert step_index([*after_tools, assistant_calls("c3"), tool_result("c3")]) == 2
    next_turn = [*after_tools, {"role": "assistant", "content": "done"}, user("b")]
    assert step_index(next_turn) == 0


def test_select_follows_the_rule_then_ends_with_done() -> None:
    rule = Rule("list", [bash("ls"), text("listed")])
    history = [SYSTEM, user("please list files")]
    assert select(history, [rule], echo_reply).step == bash("ls")
    history += [assistant_calls("c1"), tool_result("c1")]
    assert select(history, [rule], echo_reply).step == text("listed")
    history += [assistant_calls("c2"), tool_result("c2")]
    last = select(history, [rule], echo_reply)
    assert (last.rule, last.step_index, last.step) == (rule, 2, text("done"))


def test_newest_matching_rule_wins_and_default_echoes() -> None:
    rules = [Rule(re.compile(r"^fix"), [text("old")]), Rule("fix", [text("new")])]
    assert select([user("fix it")], rules, echo_reply).step == text("new")
    miss = select([user("[{'type': 'text'}]")], rules, echo_reply)
    assert miss.rule is None
    assert "".join(miss.step.text) == "ok: [{'type': 'text'}]"


def test_user_content_may_be_a_list_of_parts() -> None:
    parts = [{"type": "text", "text": "fix"}, {"type": "image_url"}, {"type": "text", "text": "it"}]
    assert select([{"role": "user", "content": parts}], [], echo_reply).prompt == "fix\nit"


def test_title_requests_get_a_deterministic_title_and_consume_no_step() -> None:
    title_request = [
        TITLE_SYSTEM,
        user("Generate a title for this conversation:\n"),
        user("fix the bug now please ok"),
    ]
    rules = [Rule("fix", [bash("ls")], title="Fixing")]
    chosen = select(title_request, rules, echo_reply)
    assert (chosen.kind, "".join(chosen.step.text)) == ("title", "Fixing")
    untitled = select(title_request, [], echo_reply)
    assert "".join(untitled.step.text) == default_title("fix the bug now please ok")
    assert default_title("fix the bug now please ok") == "Scripted: fix the bug now please"


# -- chunks --------------------------------------------------------------------------------------


def test_tool_call_chunks_reassemble_to_the_arguments() -> None:
    step = text("Running") + tools(bash("ls -la"), tool("read", filePath="/a b"))
    chunks = list(content_chunks(step, "c1", "m", ["call_a", "call_b"]))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in chunk["choices"][0]["delta"].get("tool_calls", []):
            call = calls.setdefault(delta["index"], {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.get("id", "")
            call["name"] += delta["function"].get("name", "")
            call["arguments"] += delta["function"]["arguments"]
    assert [(c["id"], c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("call_a", "bash", {"command": "ls -la"}),
        ("call_b", "read", {"filePath": "/a b"}),
    ]
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)
    assert finish_chunk("c1", "m", "tool_calls")["choices"][0]["finish_reason"] == "tool_calls"


def test_provider_config_points_opencode_at_the_model() -> None:
    config = opencode_provider_config("http://127.0.0.1:9/v1")
    provider = config["provider"]["scripted"]
    assert provider["npm"] == "@ai-sdk/openai-compatible"
    assert provider["options"]["baseURL"] == "http://127.0.0.1:9/v1"
    assert provider["models"]["scripted-1"]["tool_call"] is True
    assert provider["models"]["scripted-vision"]["modalities"]["input"] == ["text", "image", "pdf"]
    assert config["model"] == config["small_model"] == "scripted/scripted-1"


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
async def served() -> AsyncIterator[tuple[ScriptedModel, aiohttp.ClientSession]]:
    async with ScriptedModel() as model, aiohttp.ClientSession() as http:
        yield model, http


async def chat(
    http: aiohttp.ClientSession,
    model: ScriptedModel,
    messages: list[dict[str, Any]],
    stream: bool = True,
) -> tuple[int, list[Any]]:
    """Status and the decoded SSE payloads (or the JSON body when not streaming)."""
    body = {"model": "scripted-1", "messages": messages, "stream": stream}
    async with http.post(f"{model.base_url}/chat/completions", json=body) as r:
        if not stream or r.status != 200:
            return r.status, [await r.json()]
        raw = await r.text()
    events = [line.removeprefix("data: ") for line in raw.split("\n\n") if line]
    return r.status, [e if e == "[DONE]" else json.loads(e) for e in events]


def streamed_text(events: list[Any]) -> str:
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e != "[DONE]")


async def test_stream_ends_with_finish_reason_and_done(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    status, events = await chat(http, model, [user("hi there")])
    assert status == 200
    assert streamed_text(events) == "ok: hi there"
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    recorded = await model.wait_for_request(lambda r: r.prompt == "hi there", timeout=1)
    assert (recorded.kind, recorded.rule, recorded.step_index, recorded.status) == (
        "turn",
        None,
        0,
        200,
    )


async def test_non_streaming_and_models(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule("go", [reasoning("plan") + bash("ls")])
    status, [body] = await chat(http, model, [user("go")], stream=False)
    message = body["choices"][0]["message"]
    assert (status, body["choices"][0]["finish_reason"]) == (200, "tool_calls")
    assert message["reasoning_content"] == "plan"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"command": "ls"}
    async with http.get(f"{model.base_url}/models") as r:
        assert [m["id"] for m in (await r.json())["data"]] == ["scripted-1"]


async def test_http_error_fails_once_then_the_retry_succeeds(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule("flaky", [text("fine").failing(503)])
    assert (await chat(http, model, [user("flaky")]))[0] == 503
    status, events = await chat(http, model, [user("flaky")])
    assert (status, streamed_text(events)) == (200, "fine")
    assert [r.status for r in model.requests] == [503, 200]


async def test_a_broken_step_still_finishes_the_stream(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule(
        "broken", [text("partial ") + Step(tool_calls=(ToolCall("bash", {"x": object()}),))]
    )
    status, events = await chat(http, model, [user("broken")])
    assert status == 200
    assert streamed_text(events) == "partial "
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-1] == "[DONE]"


async def test_gate_holds_the_stream_until_released(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    gate = asyncio.Event()
    model.add_rule("hold", [text("one two three", gate=gate)])
    reply = asyncio.create_task(chat(http, model, [user("hold")]))
    recorded = await model.wait_for_request(lambda r: r.prompt == "hold", timeout=2)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(recorded.finished.wait()), 0.2)
    gate.set()
    _, events = await asyncio.wait_for(reply, 2)
    assert streamed_text(events) == "one two three"


async def test_a_client_that_leaves_mid_stream_still_gets_the_request_finished(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, http = served
    model.add_rule("slow", [text("a " * 100, chunk_delay=0.02)])
    body = {"model": "scripted-1", "messages": [user("slow")], "stream": True}
    async with http.post(f"{model.base_url}/chat/completions", json=body) as r:
        await r.content.readline()
    recorded = await model.wait_for_request(lambda r: r.prompt == "slow", timeout=1)
    await asyncio.wait_for(recorded.finished.wait(), 5)


async def test_wait_for_request_times_out(
    served: tuple[ScriptedModel, aiohttp.ClientSession],
) -> None:
    model, _ = served
    with pytest.raises(TimeoutError):
        await model.wait_for_request(lambda r: False, timeout=0.1)


async def test_stop_releases_held_streams() -> None:
    model = ScriptedModel()
    await model.start()
    model.add_rule("hold", [text("never released", gate=asyncio.Event())])
    async with aiohttp.ClientSession() as http:
        reply = asyncio.create_task(chat(http, model, [user("hold")]))
        held = await model.wait_for_request(timeout=2)
        await asyncio.wait_for(model.stop(), 5)
        await asyncio.wait_for(held.finished.wait(), 5)
        with contextlib.suppress(aiohttp.ClientError):
            await asyncio.wait_for(reply, 5)


async def test_module_runs_standalone_with_the_echo_rule() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scripted_model", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        base_url = re.search(r"http://\S+/v1", first)
        assert base_url, first
        async with aiohttp.ClientSession() as http:
            body = {"messages": [user("demo")], "stream": False}
            async with http.post(f"{base_url[0]}/chat/completions", json=body) as r:
                assert (await r.json())["choices"][0]["message"]["content"] == "ok: demo"
    finally:
        proc.terminate()
        await proc.wait()
