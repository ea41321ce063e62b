"""Session controls against the real server: fork, revert/unrevert, diff, summarize, share,
commands, shell, children and archiving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kimaki.opencode.errors import SessionBusy
from kimaki.opencode.models import ModelRef, PatchPart, ToolPart
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from scripted_model import SUMMARY_TEXT, ScriptedModel, text, write
from tests.opencode.turns import run_turn
from tests.support.world import commit_all


async def test_revert_unrevert_fork_and_diff_follow_the_files(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    commit_all(project)
    notes = project / "notes.txt"
    scripted_model.add_rule("rv-one", [write(str(notes), "first\n"), text("wrote first")])
    scripted_model.add_rule("rv-two", [write(str(notes), "second\n"), text("wrote second")])
    where = str(project)
    session = await opencode.create_session(where)
    await run_turn(opencode, session.id, where, "rv-one please")
    messages = await run_turn(opencode, session.id, where, "rv-two please")
    first, second = [m.info.id for m in messages if m.info.role == "user"]
    patches = [p for m in messages for p in m.parts if isinstance(p, PatchPart)]
    assert [p.files for p in patches] == [(str(notes),), (str(notes),)]

    [change] = await opencode.diff(session.id, where, message_id=second)
    assert (change.file, change.status, change.additions, change.deletions) == (
        "notes.txt",
        "modified",
        1,
        1,
    )
    assert "-first" in change.patch and "+second" in change.patch
    assert await opencode.diff(session.id, where) == []
    [untracked] = await opencode.vcs_diff(where)
    assert (untracked.file, untracked.status) == ("notes.txt", "added")

    fork = await opencode.fork(session.id, where, message_id=second)
    forked = (await opencode.messages(fork.id, where)).messages
    assert [m.text() for m in forked if m.info.role == "user"] == ["rv-one please"]
    assert fork.is_root and fork.title.endswith("(fork #1)")
    assert await opencode.children(session.id, where) == []

    reverted = await opencode.revert(session.id, where, second)
    assert reverted.revert_to == second
    assert notes.read_text() == "first\n"
    assert len((await opencode.messages(session.id, where)).messages) == len(messages)
    restored = await opencode.unrevert(session.id, where)
    assert restored.revert_to is None and notes.read_text() == "second\n"

    await opencode.revert(session.id, where, second)
    after = await run_turn(opencode, session.id, where, "rv-three after the revert")
    assert [m.text() for m in after if m.info.role == "user"] == [
        "rv-one please",
        "rv-three after the revert",
    ]
    assert (await opencode.session(session.id, where)).revert_to is None
    await opencode.unrevert(session.id, where)
    assert notes.read_text() == "first\n", "a prompt after a revert makes it final"
    assert first in [m.info.id for m in after]


async def test_revert_and_shell_refuse_a_busy_session_but_fork_does_not(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    session = await opencode.create_session(where)
    [user, *_] = await run_turn(opencode, session.id, where, "busy-rv first turn")
    gate = asyncio.Event()
    scripted_model.add_rule("busy-rv-hold", [text("held reply", gate=gate)])
    await opencode.prompt_async(session.id, where, [TextInput("busy-rv-hold now")])
    try:
        held = await scripted_model.wait_for_request(
            lambda r: r.session_id == session.id and r.prompt == "busy-rv-hold now"
        )
        await asyncio.wait_for(held.paused.wait(), 30)
        with pytest.raises(SessionBusy) as busy:
            await opencode.revert(session.id, where, user.info.id)
        assert busy.value.name == "SessionBusyError"
        with pytest.raises(SessionBusy):
            await opencode.shell(session.id, where, "true")
        assert (await opencode.fork(session.id, where)).id != session.id
    finally:
        gate.set()


async def test_summarize_share_command_and_shell(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    config_file = project / "opencode.json"
    config = json.loads(config_file.read_text())
    config["command"] = {"sum-greet": {"template": "sum-greet says hello to $ARGUMENTS"}}
    config_file.write_text(json.dumps(config))
    where = str(project)
    session = await opencode.create_session(where)
    await run_turn(opencode, session.id, where, "sum-one before compaction")

    assert await opencode.summarize(session.id, where, ModelRef("scripted", "scripted-1"))
    messages = (await opencode.messages(session.id, where)).messages
    summary = messages[-1]
    assert summary.info.summary and summary.info.agent == "compaction"
    assert summary.text() == SUMMARY_TEXT
    assert [p.type for p in messages[-2].parts] == ["compaction"]
    asked = await scripted_model.wait_for_request(
        lambda r: r.session_id == session.id and r.kind == "summary"
    )
    assert "sum-one before compaction" in asked.prompt

    shared = await opencode.share(session.id, where)
    assert shared.share_url is None, "the test world sets OPENCODE_DISABLE_SHARE"
    assert (await opencode.unshare(session.id, where)).id == session.id

    reply = await opencode.command(session.id, where, "sum-greet", "Bob")
    assert reply.info.role == "assistant" and reply.text() == "ok: sum-greet says hello to Bob"

    turns_before = len(scripted_model.turn_requests())
    shell = await opencode.shell(session.id, where, "echo out; echo err >&2; exit 3")
    [tool] = [p for p in shell.parts if isinstance(p, ToolPart)]
    assert (tool.tool, tool.state.status, tool.state.output) == ("bash", "completed", "out\nerr\n")
    assert len(scripted_model.turn_requests()) == turns_before, "no model call for a shell"
    user = (await opencode.messages(session.id, where)).messages[-2]
    assert user.info.role == "user" and user.text() == ""  # only a synthetic part


async def test_children_are_sessions_with_a_parent(
    opencode: OpenCodeClient, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    parent = await opencode.create_session(where)
    child = await opencode.create_session(where, parent_id=parent.id)
    assert [s.id for s in await opencode.children(parent.id, where)] == [child.id]
