"""A session's thread over its life: typing, renaming, queueing, archive, delete, odd input."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.models import Message
from kimaki.store import ChannelID, GuildID, ThreadID
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60


async def test_typing_while_busy_and_not_after(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    gate = asyncio.Event()
    scripted_model.add_rule("alpha-type", [text("typed reply", gate=gate)])
    try:
        thread, _ = await running.open_thread("alpha-type go")
        await running.twin.wait_for_typing(channel=thread, timeout=TIMEOUT)
    finally:
        gate.set()
    await running.twin.wait_for_message(
        lambda m: "typed reply" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    bridge = running.app.bridges.get(ThreadID(thread.id))
    assert bridge is not None

    async def stopped() -> bool:
        return not bridge.typing.running

    await eventually(stopped, what="typing to stop once the session is idle")


async def test_the_thread_is_renamed_once_to_the_generated_title(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("beta-title", [text("titled")], title="Greeting a new friend")
    thread, _ = await running.open_thread("beta-title hello there")
    assert thread.name == "beta-title hello there"

    async def renamed() -> bool:
        return running.twin.channel(thread.id).name == "Greeting a new friend"

    await eventually(renamed, what="the rename")
    # More events for the same session (another turn) must not rename again.
    scripted_model.add_rule("beta-more", [text("more")])
    since = running.twin.cursor()
    running.twin.user(running.owner).send(thread, "beta-more please")
    await running.twin.wait_for_message(
        lambda m: "⬥ more" in m.content, channel=thread, since=since, timeout=TIMEOUT, edits=True
    )
    renames = [
        r
        for r in running.twin.requests_to("PATCH", "/channels/{channel_id}")
        if r.path.endswith(str(thread.id)) and isinstance(r.body, dict) and "name" in r.body
    ]
    assert len(renames) == 1


async def test_a_name_set_by_hand_is_kept(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    gate = asyncio.Event()
    scripted_model.add_rule("gamma-hand", [text("kept", gate=gate)], title="Generated title")
    try:
        thread, _ = await running.open_thread("gamma-hand start")
        running.twin.ops.update_channel(running.twin.channel(thread.id), {"name": "my name"})
    finally:
        gate.set()
    await running.twin.wait_for_message(
        lambda m: "kept" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    await running.app.router.catch_up()  # looks at the title again, as after a reconnect
    assert running.twin.channel(thread.id).name == "my name"


async def test_an_archived_thread_still_gets_the_reply(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    gate = asyncio.Event()
    scripted_model.add_rule("eps-archive", [text("after archive", gate=gate)])
    try:
        thread, _ = await running.open_thread("eps-archive go")
        running.twin.ops.update_channel(running.twin.channel(thread.id), {"archived": True})
    finally:
        gate.set()
    await running.twin.wait_for_message(
        lambda m: "after archive" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    assert not running.twin.channel(thread.id).archived


async def test_a_deleted_thread_stops_mirroring_and_the_bot_keeps_serving(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    gate = asyncio.Event()
    scripted_model.add_rule("zeta-gone", [text("nobody reads this", gate=gate)])
    scripted_model.add_rule("zeta-next", [text("still here")])
    try:
        thread, record = await running.open_thread("zeta-gone go")
        await scripted_model.wait_for_request(lambda r: "zeta-gone" in r.prompt, timeout=TIMEOUT)
        running.twin.ops.delete_channel(running.twin.channel(thread.id))

        async def marked() -> bool:
            found = running.app.store.threads.get(record.thread_id)
            return found is not None and found.deleted

        await eventually(marked, what="the thread to be marked deleted")
    finally:
        gate.set()
    other, _ = await running.open_thread("zeta-next hello")
    await running.twin.wait_for_message(
        lambda m: "still here" in m.content, channel=other, timeout=TIMEOUT, edits=True
    )
    assert running.app.store.outbox.pending_count(record.thread_id) == 0


async def test_a_file_alone_opens_a_thread_named_after_it_and_is_inlined(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("notes.txt", [text("got the file")])
    thread, record = await running.open_thread("", files={"notes.txt": b"hello"})
    assert thread.name == "notes.txt"
    await running.twin.wait_for_message(
        lambda m: "got the file" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )

    async def prompt() -> Message | None:
        page = await running.app.opencode.messages(record.session_id, str(running.project))
        return page.messages[0] if page.messages else None

    first = await eventually(prompt, what="the prompt")
    assert first.text() == '<attached-file name="notes.txt">\nhello\n</attached-file>'


async def test_a_long_message_is_passed_whole_and_the_thread_name_is_cut(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("eta-long", [text("read it all")])
    words = "eta-long " + "word " * 390
    thread, record = await running.open_thread(words.strip())
    assert len(thread.name) == 100
    await running.twin.wait_for_message(
        lambda m: "read it all" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    page = await running.app.opencode.messages(record.session_id, str(running.project))
    assert page.messages[0].text() == words.strip()


async def test_a_deleted_project_channel_forgets_its_project_and_others_go_on(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    running = await start_kimaki()
    twin = running.twin
    assert twin.seed is not None
    other_dir = make_project()
    other = twin.create_channel(twin.seed.guild, "other-project")
    running.app.store.projects.add(ChannelID(other.id), GuildID(twin.seed.guild.id), other_dir)
    twin.ops.delete_channel(running.channel)

    async def forgotten() -> bool:
        return running.app.store.projects.get(ChannelID(running.channel.id)) is None

    await eventually(forgotten, what="the project to be forgotten")
    scripted_model.add_rule("theta-other", [text("other project works")])
    since = twin.cursor()
    twin.user(running.owner).send(other, "theta-other hello")
    thread = await twin.wait_for_thread(parent=other, since=since, timeout=TIMEOUT)
    await twin.wait_for_message(
        lambda m: "other project works" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
