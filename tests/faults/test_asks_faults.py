"""Permission and question prompts under fault: a post Discord refuses, an answer recorded
but never delivered (a crash in between), two people answering one prompt at once."""

from __future__ import annotations

import asyncio

from discord_twin.state import Channel
from kimaki.asks.service import Choose
from kimaki.opencode.models import ToolPart
from kimaki.store import PromptState, ThreadID
from scripted_model import ScriptedModel, bash, text, tool_call
from tests.bot.test_asks_e2e import (
    QUESTION,
    ask_for_env_reads,
    custom_id,
    pending_permissions,
    prompt_in,
    tools_of,
)
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 90
SIZE = {
    "question": "How big?",
    "header": "Size",
    "options": [{"label": "Small", "description": "s"}, {"label": "Large", "description": "l"}],
}


async def read_tool(running: Running, thread: Channel, status: str) -> ToolPart | None:
    """The thread's `read` tool, once it has `status`."""
    reads = [t for t in await tools_of(running, thread) if t.tool == "read"]
    return reads[-1] if reads and reads[-1].state.status == status else None


async def question_tool(running: Running, thread: Channel) -> ToolPart | None:
    asked = [t for t in await tools_of(running, thread) if t.tool == "question"]
    return asked[-1] if asked and asked[-1].state.status == "completed" else None


async def refused_403(running: Running, thread_id: int) -> None:
    async def seen() -> bool:
        path = f"/channels/{thread_id}/messages"
        return any(r.status == 403 and r.path == path for r in running.twin.requests)

    await eventually(seen, timeout=TIMEOUT, what="a post refused with 403")


async def test_a_prompt_discord_refuses_is_posted_again_and_still_runs_out_of_time(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(KIMAKI_PERMISSION_TIMEOUT="0.15", prepare=ask_for_env_reads)
    twin, owner = running.twin, running.twin.user(running.owner)
    secret = running.project / ".env"
    name = running.project.name[-10:].replace("_", "-")
    gates = {"late": asyncio.Event(), "expire": asyncio.Event()}
    for key, gate in gates.items():
        scripted_model.add_rule(
            f"fxq-{key}-{name}:",
            [
                text(f"fx-{key}-a looking.") + bash(f"echo fx-{key}-b"),
                # Nothing to mirror before the prompt: the prompt is the first write Discord
                # refuses (a refused part ahead of it would hold it back, `post_ordered`).
                tool_call("read", filePath=str(secret)).held(gate),
                text(f"fx-{key}-d moved on."),
            ],
        )
    try:
        # Refused while it is asked, allowed again soon: posted again, and answerable.
        thread, _ = await running.open_thread(f"fxq-late-{name}: read it")
        await running.twin.wait_for_message(
            lambda m: "fx-late-b" in m.content, channel=thread, timeout=TIMEOUT, edits=True
        )
        twin.revoke_access(running.channel)
        gates["late"].set()
        await refused_403(running, thread.id)
        assert await eventually(lambda: pending_permissions(running), timeout=TIMEOUT)
        twin.restore_access(running.channel)
        prompt = await prompt_in(running, thread, "Permission needed")
        click = owner.click(prompt, custom_id(prompt, ":once"))
        await click.wait_response(timeout=TIMEOUT)
        tool = await eventually(lambda: read_tool(running, thread, "completed"), what="the read")
        assert "TOKEN=shh" in (tool.state.output or "")

        # Refused for longer than the time limit: denied on time all the same.
        other, _ = await running.open_thread(f"fxq-expire-{name}: read it")
        await running.twin.wait_for_message(
            lambda m: "fx-expire-b" in m.content, channel=other, timeout=TIMEOUT, edits=True
        )
        twin.revoke_access(running.channel)
        gates["expire"].set()
        denied = await eventually(
            lambda: read_tool(running, other, "error"), timeout=TIMEOUT, what="the denial"
        )
        assert "did not answer" in (denied.state.error or "") or "Nobody answered" in (
            denied.state.error or ""
        )
        twin.restore_access(running.channel)
    finally:
        for gate in gates.values():
            gate.set()
    for where, marker in ((thread, "fx-late-d"), (other, "fx-expire-d")):
        await twin.wait_for_message(
            lambda m, k=marker: k in m.content, channel=where, timeout=TIMEOUT, edits=True
        )


async def test_a_recorded_answer_reaches_opencode_and_two_answers_at_once_both_count(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    name = running.project.name[-10:].replace("_", "-")
    scripted_model.add_rule(
        f"fxq-rec-{name}:", [tool_call("read", filePath=str(secret)), text("fx-rec-a read.")]
    )
    scripted_model.add_rule(
        f"fxq-two-{name}:",
        [tool_call("question", questions=[QUESTION, SIZE]), text("fx-two-a noted.")],
    )

    # kimaki recorded the decision, then died before telling OpenCode: the next read of
    # pending asks (at start, after a reconnect) delivers it from the record.
    thread, _ = await running.open_thread(f"fxq-rec-{name}: read it")
    await prompt_in(running, thread, "Permission needed")
    [record] = running.app.store.prompts.pending_in(ThreadID(thread.id))
    store = running.app.store
    assert store.prompts.decide([record.request_id], PromptState.ANSWERED, "once", "owner")
    assert await pending_permissions(running) == [record.request_id]
    await running.app.asks.refresh()
    tool = await eventually(lambda: read_tool(running, thread, "completed"), what="the read")
    assert "TOKEN=shh" in (tool.state.output or "")

    # Two people answer the two questions of one prompt at the same moment.
    asked, _ = await running.open_thread(f"fxq-two-{name}: ask")
    await prompt_in(running, asked, "Colour")
    [question] = store.prompts.pending_in(ThreadID(asked.id))

    def choose(label: str) -> Choose:
        return lambda _question: [label]

    outcomes = await asyncio.gather(
        running.app.asks.answer_question(question, 0, choose("Blue"), "one"),
        running.app.asks.answer_question(question, 1, choose("Small"), "two"),
    )
    assert outcomes == [None, None]
    tool = await eventually(lambda: question_tool(running, asked), what="the answers")
    assert "Blue" in (tool.state.output or "") and "Small" in (tool.state.output or "")
    await running.twin.wait_for_message(
        lambda m: "fx-two-a" in m.content, channel=asked, timeout=TIMEOUT, edits=True
    )
