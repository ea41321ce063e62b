"""The scripted model against the real OpenCode (one ``opencode serve`` for the whole module)."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest

from scripted_model import (
    TITLE_PREFIX,
    ScriptedModel,
    bash,
    read,
    reasoning,
    text,
    tools,
)
from tests.scripted_model.opencode_world import OPENCODE, Opencode, eventually

pytestmark = pytest.mark.timeout(120)


def parts_of(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [p for m in messages for p in m["parts"] if p["type"] == kind]


def assistant_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [
        p["text"]
        for m in messages
        if m["info"]["role"] == "assistant"
        for p in m["parts"]
        if p["type"] == "text"
    ]


async def title_of(local_opencode: Opencode, session_id: str, expected: str) -> str:
    """Titles arrive from a separate request, possibly after the turn; wait for the expected one."""

    async def check() -> str | None:
        title = str((await local_opencode.call("GET", f"/session/{session_id}"))["title"])
        return title if title == expected else None

    return await eventually(check, timeout=10)


async def test_text_reply_and_deterministic_default_title(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    session = await local_opencode.new_session()
    reply = await local_opencode.prompt(session, "hello scripted world from kimaki tests")
    assert reply["info"]["finish"] == "stop"
    assert [p["text"] for p in reply["parts"] if p["type"] == "text"] == [
        "ok: hello scripted world from kimaki tests"
    ]
    expected = TITLE_PREFIX + "hello scripted world from kimaki"
    assert await title_of(local_opencode, session, expected) == expected
    title_request = await model.wait_for_request(
        lambda r: r.kind == "title" and "hello scripted" in r.prompt
    )
    assert "tools" not in title_request.body


async def test_reasoning_arrives_as_a_reasoning_part(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    model.add_rule(
        "ponder", [reasoning("Weighing the options carefully.", "Decided.")], title="Pondering"
    )
    session = await local_opencode.new_session()
    await local_opencode.prompt(session, "ponder this")
    messages = await local_opencode.messages(session)
    [thought] = parts_of(messages, "reasoning")
    assert thought["text"] == "Weighing the options carefully."
    assert "end" in thought["time"]
    assert assistant_texts(messages) == ["Decided."]
    assert await title_of(local_opencode, session, "Pondering") == "Pondering"


async def test_bash_tool_completes_and_the_turn_ends_with_text(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    model.add_rule("run echo", [bash("echo scripted-output"), text("The command ran.")])
    session = await local_opencode.new_session()
    await local_opencode.prompt(session, "run echo please")
    messages = await local_opencode.messages(session)
    [call] = parts_of(messages, "tool")
    assert (call["tool"], call["state"]["status"]) == ("bash", "completed")
    assert call["state"]["input"]["command"] == "echo scripted-output"
    assert "scripted-output" in call["state"]["output"]
    assert [m["info"].get("finish") for m in messages[1:]] == ["tool-calls", "stop"]
    assert assistant_texts(messages) == ["The command ran."]
    follow_up = await model.wait_for_request(
        lambda r: r.prompt == "run echo please" and r.step_index == 1
    )
    last = follow_up.messages[-1]
    assert last["role"] == "tool"
    assert "scripted-output" in last["content"]


async def test_two_tool_calls_in_one_step_both_complete(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    hello = local_opencode.world.project / "hello.txt"
    model.add_rule("both tools", [tools(bash("echo first"), read(str(hello))), text("Both done.")])
    session = await local_opencode.new_session()
    await local_opencode.prompt(session, "both tools at once")
    messages = await local_opencode.messages(session)
    calls = parts_of(messages, "tool")
    assert [(c["tool"], c["state"]["status"]) for c in calls] == [
        ("bash", "completed"),
        ("read", "completed"),
    ]
    assert "hello from the project" in calls[1]["state"]["output"]
    assert assistant_texts(messages) == ["Both done."]
    follow_up = await model.wait_for_request(
        lambda r: r.prompt == "both tools at once" and r.step_index == 1
    )
    assert [m["role"] for m in follow_up.messages[-3:]] == ["assistant", "tool", "tool"]


async def test_http_error_is_retried_then_succeeds(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    model.add_rule("flaky", [text("Recovered after a retry.").failing(503)])
    session = await local_opencode.new_session()
    await local_opencode.call(
        "POST",
        f"/session/{session}/prompt_async",
        {"parts": [{"type": "text", "text": "flaky model"}]},
    )

    async def status() -> str | None:
        state = (await local_opencode.call("GET", "/session/status")).get(session)
        return state["type"] if state and state["type"] == "retry" else None

    assert await eventually(status, timeout=10) == "retry"

    async def finished() -> list[dict[str, Any]] | None:
        messages = await local_opencode.messages(session)
        done = messages[-1]["info"].get("time", {}).get("completed")
        return messages if done and messages[-1]["info"]["role"] == "assistant" else None

    messages = await eventually(finished, timeout=30)
    assert assistant_texts(messages) == ["Recovered after a retry."]
    attempts = [r.status for r in model.turn_requests() if r.prompt == "flaky model"]
    assert attempts == [503, 200]


async def test_gate_holds_the_turn_busy_until_released(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    gate = asyncio.Event()
    model.add_rule("hold on", [text("Held then released.", gate=gate)])
    session = await local_opencode.new_session()
    reply = asyncio.create_task(local_opencode.prompt(session, "hold on a moment"))
    held = await model.wait_for_request(
        lambda r: r.prompt == "hold on a moment" and r.kind == "turn"
    )
    assert (await local_opencode.call("GET", "/session/status")).get(session) == {"type": "busy"}
    assert not reply.done()
    gate.set()
    await asyncio.wait_for(held.finished.wait(), 5)
    assert [p["text"] for p in (await reply)["parts"] if p["type"] == "text"] == [
        "Held then released."
    ]


async def test_opencode_run_uses_the_scripted_model(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    """A separate ``opencode run`` process (sharing the world) answers from the same rules."""
    model.add_rule("standalone run", [text("Run reply.")], title="Run title")
    cmd = [str(OPENCODE), "run", "--model", "scripted/scripted-1", "standalone", "run", "check"]
    world = local_opencode.world
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=world.project, env=world.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, out.decode()
    assert "Run reply." in out.decode()
    request = await model.wait_for_request(lambda r: r.prompt == "standalone run check")
    assert request.rule is not None


async def test_requests_name_their_session_and_a_queued_prompt_never_overlaps(
    model: ScriptedModel, local_opencode: Opencode
) -> None:
    """OpenCode sends ``x-session-id``; a prompt sent mid-stream waits for the running turn."""
    gate = asyncio.Event()
    model.add_rule("guard first", [text("First, held mid-stream.", gate=gate)])
    model.add_rule("guard second", [text("Second, after the first.")])
    session = await local_opencode.new_session()

    async def send(words: str) -> None:
        body = {"parts": [{"type": "text", "text": words}]}
        await local_opencode.call("POST", f"/session/{session}/prompt_async", body)

    await send("guard first")
    held = await model.wait_for_request(lambda r: r.prompt == "guard first" and r.kind == "turn")
    await asyncio.wait_for(held.paused.wait(), 30)
    await send("guard second")
    gate.set()
    second = await model.wait_for_request(
        lambda r: r.prompt == "guard second" and r.kind == "turn", timeout=30
    )
    await asyncio.wait_for(second.finished.wait(), 30)
    ours = [r for r in model.requests if r.session_id == session]
    assert {r.kind for r in ours} >= {"title", "turn"}
    assert held.session_id == second.session_id == session
    assert second.time >= held.time and held.finished.is_set()
    assert model.overlaps_of(session) == []
