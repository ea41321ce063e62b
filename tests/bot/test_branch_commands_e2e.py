"""/undo, /redo, /fork and /btw end to end: files, new threads bound to new sessions, and the
original thread still mirrored."""

from __future__ import annotations

import asyncio

from kimaki.store import ThreadID, ThreadRecord
from scripted_model import ScriptedModel, text, write
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.slash import options_of, pick, slash
from tests.support.waiting import eventually
from tests.support.world import commit_all

TIMEOUT = 60


async def test_undo_redo_fork_and_btw(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=lambda project: commit_all(project))
    twin, store = running.twin, running.app.store
    notes = running.project / "notes.txt"
    scripted_model.add_rule("brn-one", [write(str(notes), "first\n"), text("wrote first")])
    scripted_model.add_rule("brn-two", [write(str(notes), "second\n"), text("wrote second")])
    thread, record = await running.open_thread("brn-one please")
    await twin.wait_for_message(
        lambda m: "wrote first" in m.content, channel=thread, timeout=TIMEOUT
    )
    twin.user(running.owner).send(thread, "brn-two please")
    await twin.wait_for_message(
        lambda m: "wrote second" in m.content, channel=thread, timeout=TIMEOUT
    )
    assert notes.read_text() == "second\n"

    undone = await slash(running, "undo", channel=thread)
    assert "undid «brn-two please»" in undone.content and "`notes.txt`" in undone.content
    assert notes.read_text() == "first\n"
    redone = await slash(running, "redo", channel=thread)
    assert "redid «brn-two please»" in redone.content
    assert "nothing is undone any more" in redone.content
    assert notes.read_text() == "second\n"
    assert "nothing to redo" in (await slash(running, "redo", channel=thread)).content

    menu = await slash(running, "fork", channel=thread)
    messages = await running.app.opencode.all_messages(record.session_id, str(running.project))
    first_id = next(m.info.id for m in messages if m.text() == "brn-one please")
    assert options_of(menu, "kimaki:c:fork:")[-1] == first_id  # newest first
    since = twin.cursor()
    forked = await pick(running, menu, "kimaki:c:fork:", [first_id])
    fork_thread = await twin.wait_for_thread(parent=running.channel, since=since, timeout=TIMEOUT)
    assert fork_thread.name.startswith("Fork: ") and f"<#{fork_thread.id}>" in forked.content
    fork_record = await bound(running, fork_thread.id)
    assert fork_record.session_id != record.session_id
    fork_messages = await running.app.opencode.all_messages(
        fork_record.session_id, str(running.project)
    )
    assert [m.text() for m in fork_messages if m.info.role == "user"] == ["brn-one please"]
    recap = await twin.wait_for_message(
        lambda m: "forked from" in m.content, channel=fork_thread, timeout=TIMEOUT
    )
    assert f"<#{thread.id}>" in recap.content and "«brn-one please»" in recap.content
    assert [m.content for m in twin.messages(fork_thread)] == [recap.content], "no history"

    # /btw while the original runs a turn: both threads go on, each with its own session.
    gate = asyncio.Event()
    scripted_model.add_rule("brn-hold", [text("held reply", gate=gate)])
    scripted_model.add_rule("brn-aside", [text("aside answer")])
    twin.user(running.owner).send(thread, "brn-hold on")
    held = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and "brn-hold" in r.prompt, timeout=TIMEOUT
    )
    try:
        await asyncio.wait_for(held.paused.wait(), TIMEOUT)
        since = twin.cursor()
        aside = await slash(running, "btw", {"prompt": "brn-aside what now?"}, channel=thread)
        btw_thread = await twin.wait_for_thread(
            parent=running.channel, since=since, timeout=TIMEOUT
        )
        assert btw_thread.name == "btw: brn-aside what now?"
        assert f"<#{btw_thread.id}>" in aside.content
        btw_record = await bound(running, btw_thread.id)
        await twin.wait_for_message(
            lambda m: "aside answer" in m.content, channel=btw_thread, timeout=TIMEOUT
        )
    finally:
        gate.set()
    await twin.wait_for_message(
        lambda m: "held reply" in m.content, channel=thread, timeout=TIMEOUT
    )
    assert not any("aside answer" in m.content for m in twin.messages(thread))
    assert not any("held reply" in m.content for m in twin.messages(btw_thread))
    assert store.threads.by_session(btw_record.session_id) == btw_record

    # The original's next turn is still mirrored in the original thread.
    scripted_model.add_rule("brn-after", [text("after the forks")])
    twin.user(running.owner).send(thread, "brn-after")
    await twin.wait_for_message(
        lambda m: "after the forks" in m.content, channel=thread, timeout=TIMEOUT
    )
    for other in (fork_thread, btw_thread):
        assert not any("after the forks" in m.content for m in twin.messages(other))

    # /undo during a turn stops it first (OpenCode refuses a revert while busy).
    gate = asyncio.Event()
    scripted_model.add_rule("brn-long", [text("never shown", gate=gate)])
    twin.user(running.owner).send(thread, "brn-long turn")
    held = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and "brn-long" in r.prompt, timeout=TIMEOUT
    )
    try:
        await asyncio.wait_for(held.paused.wait(), TIMEOUT)
        undone = await slash(running, "undo", channel=thread)
    finally:
        gate.set()
    assert "stopped the running turn and undid «brn-long turn»" in undone.content
    session = await running.app.opencode.session(record.session_id, str(running.project))
    assert session.revert_to is not None


async def bound(running: Running, thread_id: int) -> ThreadRecord:
    async def record() -> ThreadRecord | None:
        return running.app.store.threads.get(ThreadID(thread_id))

    return await eventually(record, timeout=TIMEOUT, what="the thread's binding")
