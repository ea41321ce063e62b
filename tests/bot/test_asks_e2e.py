"""Permission and question prompts in threads: Discord twin + real OpenCode + scripted model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from discord_twin.state import Channel, Message
from kimaki.opencode.models import ToolPart
from kimaki.opencode.prompt import TextInput
from kimaki.store import PromptState, ThreadID
from scripted_model import ScriptedModel, text, tool_call
from tests.bot.test_commands import open_thread
from tests.bot.test_sessions import marked_queued
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60
FAST_SYNC = {"KIMAKI_DISABLE_SYNC": "0", "KIMAKI_SYNC_INTERVAL": "0.5"}


def ask_for_env_reads(project: Path) -> Path:
    """Reading `.env` asks in this project (last matching pattern wins); returns the file."""
    config = json.loads((project / "opencode.json").read_text())
    config["permission"] = {"*": "allow", "read": {"*": "allow", "*.env": "ask"}}
    (project / "opencode.json").write_text(json.dumps(config))
    secret = project / ".env"
    secret.write_text("TOKEN=shh\n")
    return secret


def custom_ids(message: Message) -> list[str]:
    found: list[str] = []

    def walk(components: list[Any]) -> None:
        for component in components:
            if component.get("custom_id"):
                found.append(component["custom_id"])
            walk(component.get("components") or [])

    walk(message.components)
    return found


def custom_id(message: Message, suffix: str) -> str:
    return next(c for c in custom_ids(message) if c.endswith(suffix))


async def prompt_in(running: Running, thread: Channel, needle: str, since: int = 0) -> Message:
    return await running.twin.wait_for_message(
        lambda m: needle in m.content and bool(m.components),
        channel=thread,
        since=since,
        timeout=TIMEOUT,
    )


def prompts_in(running: Running, thread: Channel, needle: str) -> list[Message]:
    return [m for m in running.twin.messages(thread) if needle in m.content]


async def edited(running: Running, message: Message, needle: str) -> Message:
    return await running.twin.wait_for_message(
        lambda m: m.id == message.id and needle in m.content, edits=True, timeout=TIMEOUT
    )


async def tools_of(running: Running, thread: Channel) -> list[ToolPart]:
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None
    page = await running.app.opencode.messages(record.session_id, str(record.directory))
    return [p for m in page.messages for p in m.parts if isinstance(p, ToolPart)]


async def finished_tool(running: Running, thread: Channel, status: str) -> ToolPart | None:
    tools = [t for t in await tools_of(running, thread) if t.state.status == status]
    return tools[-1] if tools else None


async def pending_permissions(running: Running) -> list[str]:
    return [p.id for p in await running.app.opencode.permissions(str(running.project))]


def env_read_rule(scripted_model: ScriptedModel, marker: str, secret: Path, reply: str) -> None:
    scripted_model.add_rule(marker, [tool_call("read", filePath=str(secret)), text(reply)])


async def test_accept_once_runs_the_tool_and_the_reply_arrives(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-once"
    env_read_rule(scripted_model, marker, secret, f"Read it {marker}.")
    thread = await open_thread(running, f"{marker} read the env")

    prompt = await prompt_in(running, thread, "Permission needed")
    assert "`read`" in prompt.content and ".env" in prompt.content
    assert "Tool call:" in prompt.content
    assert not prompt.flags & (1 << 12)  # notifies: not SUPPRESS_NOTIFICATIONS
    assert sorted(c.rsplit(":", 1)[1] for c in custom_ids(prompt)) == [
        "always",
        "once",
        "reason",
        "reject",
    ]
    bridge = running.app.bridges.get(ThreadID(thread.id))
    assert bridge is not None
    assert bridge.waiting  # no typing while a person has to decide

    click = running.twin.user(running.owner).click(prompt, custom_id(prompt, ":once"))
    await click.wait_response(timeout=TIMEOUT)
    decided = await edited(running, prompt, "Accepted once")
    assert "owner" in decided.content and not decided.components
    await running.twin.wait_for_message(
        lambda m: f"Read it {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )
    tool = await eventually(lambda: finished_tool(running, thread, "completed"), what="the read")
    assert "TOKEN=shh" in (tool.state.output or "")


async def test_deny_with_feedback_reaches_the_model(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-deny"
    env_read_rule(scripted_model, marker, secret, f"Understood {marker}.")
    thread = await open_thread(running, f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    owner = running.twin.user(running.owner)
    opened = await owner.click(prompt, custom_id(prompt, ":reason")).wait_response(timeout=TIMEOUT)
    assert opened.modal is not None
    submitted = owner.submit_modal(opened, {"feedback": "secrets stay local"})
    await submitted.wait_response(timeout=TIMEOUT)
    decided = await edited(running, prompt, "Denied")
    assert "secrets stay local" in decided.content and not decided.components

    tool = await eventually(lambda: finished_tool(running, thread, "error"), what="the denial")
    assert "secrets stay local" in (tool.state.error or "")
    await running.twin.wait_for_message(
        lambda m: f"Understood {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )


async def test_deny_is_one_tap(start_kimaki: StartKimaki, scripted_model: ScriptedModel) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-tap"
    env_read_rule(scripted_model, marker, secret, f"Never said {marker}.")
    thread = await open_thread(running, f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    click = running.twin.user(running.owner).click(prompt, custom_id(prompt, ":reject"))
    answered = await click.wait_response(timeout=TIMEOUT)
    assert answered.modal is None  # no form between the tap and the refusal
    decided = await edited(running, prompt, "Denied")
    assert "owner" in decided.content and not decided.components
    tool = await eventually(lambda: finished_tool(running, thread, "error"), what="the denial")
    assert "reject" in (tool.state.error or "").lower()
    assert await pending_permissions(running) == []
    assert running.app.store.prompts.pending_in(ThreadID(thread.id)) == []


async def test_accept_always_does_not_ask_again(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-always"
    env_read_rule(scripted_model, marker, secret, f"Read {marker}.")
    thread = await open_thread(running, f"{marker} first")
    prompt = await prompt_in(running, thread, "Permission needed")
    await (
        running.twin.user(running.owner)
        .click(prompt, custom_id(prompt, ":always"))
        .wait_response(timeout=TIMEOUT)
    )
    await edited(running, prompt, "Accepted always")
    await running.twin.wait_for_message(
        lambda m: f"Read {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )

    since = running.twin.cursor()
    running.twin.user(running.owner).send(thread, f"{marker} second")
    await running.twin.wait_for_message(
        lambda m: f"Read {marker}." in m.content, channel=thread, since=since, timeout=TIMEOUT
    )
    completed = [t for t in await tools_of(running, thread) if t.state.status == "completed"]
    assert len(completed) == 2
    assert len(prompts_in(running, thread, "Permission needed")) == 1


async def test_an_unanswered_permission_expires_and_is_denied(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(
        KIMAKI_PERMISSION_TIMEOUT="0.02", prepare=ask_for_env_reads
    )  # 1.2 s
    secret = running.project / ".env"
    marker = f"{running.project.name}-expire"
    env_read_rule(scripted_model, marker, secret, f"Moving on {marker}.")
    thread = await open_thread(running, f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    expired = await edited(running, prompt, "Expired")
    assert "denied automatically" in expired.content and not expired.components
    tool = await eventually(lambda: finished_tool(running, thread, "error"), what="the denial")
    assert "did not answer" in (tool.state.error or "") or "Nobody answered" in (
        tool.state.error or ""
    )
    record = running.app.store.prompts.pending_in(ThreadID(thread.id))
    assert record == []


async def test_a_member_without_rights_cannot_answer(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-refuse"
    env_read_rule(scripted_model, marker, secret, f"Done {marker}.")
    thread = await open_thread(running, f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    twin = running.twin
    assert twin.seed is not None
    mallory = twin.create_user("mallory")
    twin.add_member(twin.seed.guild, mallory)
    refused = (
        await twin.user(mallory)
        .click(prompt, custom_id(prompt, ":once"))
        .wait_response(timeout=TIMEOUT)
    )
    reply = refused.message()
    assert reply is not None and reply.ephemeral_for == mallory.id
    assert reply.content.startswith("⬦ kimaki: only the server owner")
    assert twin.store.messages[prompt.id].components  # unchanged, still answerable
    (row,) = running.app.store.prompts.pending_in(ThreadID(thread.id))
    assert row.state is PromptState.PENDING
    assert row.request_id in await pending_permissions(running)

    await (
        twin.user(running.owner)
        .click(prompt, custom_id(prompt, ":once"))
        .wait_response(timeout=TIMEOUT)
    )
    await running.twin.wait_for_message(
        lambda m: f"Done {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )


async def test_prompt_buttons_work_after_a_restart_and_nothing_is_posted_twice(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-restart"
    env_read_rule(scripted_model, marker, secret, f"After restart {marker}.")
    thread = await open_thread(running, f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    restarted = await start_kimaki(restart=running)
    # The new process has read the pending ask back and bound it to the old message.
    (row,) = await eventually(lambda: _pending_rows(restarted, thread), what="the re-bound prompt")
    assert row.message_id == prompt.id
    await (
        running.twin.user(running.owner)
        .click(prompt, custom_id(prompt, ":once"))
        .wait_response(timeout=TIMEOUT)
    )
    await edited(restarted, prompt, "Accepted once")
    await running.twin.wait_for_message(
        lambda m: f"After restart {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )
    assert len(prompts_in(restarted, thread, "Permission needed")) == 1


async def _pending_rows(running: Running, thread: Channel) -> list[Any]:
    await running.app.asks.refresh()
    return running.app.store.prompts.pending_in(ThreadID(thread.id))


QUESTION = {
    "question": "Which colour should the button be?",
    "header": "Colour",
    "options": [
        {"label": "Red", "description": "warm"},
        {"label": "Blue", "description": "calm"},
    ],
}


async def test_a_question_is_answered_from_its_menu(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    marker = f"{running.project.name}-question"
    scripted_model.add_rule(
        marker, [tool_call("question", questions=[QUESTION]), text(f"Noted {marker}.")]
    )
    thread = await open_thread(running, f"{marker} ask me")
    prompt = await prompt_in(running, thread, "Colour")
    assert "Which colour" in prompt.content
    pick = running.twin.user(running.owner).select(prompt, custom_id(prompt, ":0"), ["o1"])
    await pick.wait_response(timeout=TIMEOUT)
    answered = await edited(running, prompt, "answered by")
    assert "→ **Blue**" in answered.content and not answered.components
    tool = await eventually(lambda: finished_tool(running, thread, "completed"), what="answer")
    assert "Blue" in (tool.state.output or "")
    await running.twin.wait_for_message(
        lambda m: f"Noted {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )


async def test_a_question_takes_free_text_through_other(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    marker = f"{running.project.name}-other"
    scripted_model.add_rule(
        marker, [tool_call("question", questions=[QUESTION]), text(f"Fine {marker}.")]
    )
    thread = await open_thread(running, f"{marker} ask me")
    prompt = await prompt_in(running, thread, "Colour")
    owner = running.twin.user(running.owner)
    opened = await owner.select(prompt, custom_id(prompt, ":0"), ["other"]).wait_response(
        timeout=TIMEOUT
    )
    assert opened.modal is not None
    await owner.submit_modal(opened, {"answer": "Teal, please"}).wait_response(timeout=TIMEOUT)
    answered = await edited(running, prompt, "answered by")
    assert "Teal, please" in answered.content
    tool = await eventually(lambda: finished_tool(running, thread, "completed"), what="answer")
    assert "Teal, please" in (tool.state.output or "")


async def test_a_prompt_in_an_attached_synced_session_is_answered_from_its_sync_thread(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """A terminal attached to the shared server (`opencode attach`) drives the session.

    The test plays that terminal through the server's API, as the attached TUI does.
    (`opencode run --attach` cannot be used: it rejects every permission ask itself,
    at once, before anyone could answer.)
    """
    running = await start_kimaki(**FAST_SYNC, prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-attached"
    env_read_rule(scripted_model, marker, secret, f"Attached read {marker}.")
    directory = str(running.project)
    terminal = running.app.opencode
    session = await terminal.create_session(directory)
    await terminal.prompt_async(session.id, directory, [TextInput(f"{marker} read the env")])

    thread = await running.twin.wait_for_thread(
        lambda t: t.name.startswith("Sync: "), parent=running.channel, timeout=TIMEOUT
    )
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None and record.session_id == session.id
    prompt = await prompt_in(running, thread, "Permission needed")
    await (
        running.twin.user(running.owner)
        .click(prompt, custom_id(prompt, ":once"))
        .wait_response(timeout=TIMEOUT)
    )
    await edited(running, prompt, "Accepted once")
    await running.twin.wait_for_message(
        lambda m: f"Attached read {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )


async def test_a_message_while_a_permission_waits_denies_it_with_those_words(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    secret = running.project / ".env"
    marker = f"{running.project.name}-words"
    env_read_rule(scripted_model, marker, secret, f"Carrying on {marker}.")
    thread = await open_thread(running, f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    running.twin.user(running.owner).send(thread, "no, use the example file instead")
    decided = await edited(running, prompt, "Denied")
    assert "use the example file instead" in decided.content and not decided.components
    tool = await eventually(lambda: finished_tool(running, thread, "error"), what="the denial")
    assert "use the example file instead" in (tool.state.error or "")
    await running.twin.wait_for_message(
        lambda m: f"Carrying on {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )


async def test_a_message_while_a_question_waits_is_queued_and_the_question_stays_answerable(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    marker = f"{running.project.name}-queue"
    scripted_model.add_rule(
        marker, [tool_call("question", questions=[QUESTION]), text(f"Noted first {marker}.")]
    )
    scripted_model.add_rule(f"{marker}-next", [text(f"Next answered {marker}.")])
    thread = await open_thread(running, f"{marker} ask me")
    prompt = await prompt_in(running, thread, "Colour")

    meanwhile = running.twin.user(running.owner).send(thread, f"{marker}-next meanwhile")
    await marked_queued(running, meanwhile)  # kimaki holds it: the session waits on a person
    (row,) = running.app.store.prompts.pending_in(ThreadID(thread.id))
    assert row.state is PromptState.PENDING

    pick = running.twin.user(running.owner).select(prompt, custom_id(prompt, ":0"), ["o0"])
    await pick.wait_response(timeout=TIMEOUT)
    await edited(running, prompt, "answered by")
    await running.twin.wait_for_message(
        lambda m: f"Next answered {marker}." in m.content, channel=thread, timeout=TIMEOUT
    )
    tool = await eventually(lambda: finished_tool(running, thread, "completed"), what="answer")
    assert "Red" in (tool.state.output or "")
