"""Background sync end to end: sessions started from the terminal appear in Sync threads."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from discord_twin.state import Channel
from kimaki.ids import Verbosity
from kimaki.opencode.prompt import TextInput
from kimaki.store import ChannelID, ThreadID, ThreadRecord
from scripted_model import ScriptedModel, bash, text, tool_call
from tests.bot.test_sessions import answer_streaming, marked_queued, reconcile_with_follow_up
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.transcript import FOOTER
from tests.support.transcript import bot_lines as transcript_lines
from tests.support.waiting import eventually
from tests.support.world import World, opencode_run

TIMEOUT = 60
FAST = {"KIMAKI_DISABLE_SYNC": "0", "KIMAKI_SYNC_INTERVAL": "0.5"}


def bot_lines(running: Running, thread: Channel) -> list[str]:
    bot = running.twin.seed.bot.id  # type: ignore[union-attr]
    return [m.content for m in running.twin.messages(thread) if m.author_id == bot]


def lines_of(running: Running, thread: Channel, *, footers: bool = True) -> list[str]:
    return transcript_lines(running.twin, thread, footers=footers)


def transcript(running: Running, thread: Channel) -> str:
    return "\n".join(bot_lines(running, thread))


async def sync_thread(
    running: Running, predicate: Callable[[Channel], bool] | None = None
) -> Channel:
    return await running.twin.wait_for_thread(
        lambda t: t.name.startswith("Sync: ") and (predicate is None or predicate(t)),
        parent=running.channel,
        timeout=TIMEOUT,
    )


async def wait_text(running: Running, thread: Channel, needle: str) -> None:
    await running.twin.wait_for_message(
        lambda m: needle in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )


async def wait_footers(running: Running, thread: Channel, count: int) -> None:
    """A polled session's last footer may come a tick after its text (the message
    completes after its last part)."""

    async def shown() -> bool:
        return lines_of(running, thread).count(FOOTER) >= count

    await eventually(shown, timeout=TIMEOUT, what=f"{count} footers")


def record_of(running: Running, thread: Channel) -> ThreadRecord:
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None
    return record


async def test_a_terminal_session_is_mirrored_and_its_next_turn_lands_in_the_same_thread(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST)
    scripted_model.add_rule("s1-first", [text("Terminal answer one.")], title="Terminal work")
    scripted_model.add_rule("s1-second", [text("Terminal answer two.")])
    first = await opencode_run(world, running.project, ["s1-first", "from", "the", "terminal"])
    assert first.returncode == 0, first.stderr

    thread = await sync_thread(running)
    assert thread.name == "Sync: Terminal work"
    await wait_text(running, thread, "Terminal answer one.")
    record = record_of(running, thread)

    second = await opencode_run(
        world, running.project, ["s1-second", "continues"], session=record.session_id
    )
    assert second.returncode == 0, second.stderr
    await wait_text(running, thread, "Terminal answer two.")
    await wait_footers(running, thread, 2)
    await running.app.bridges.settle()
    await running.app.outbox.flush(record.thread_id)
    # Each turn ends with its footer, exactly once, in a Sync thread too.
    assert lines_of(running, thread) == [
        "» **user:** s1-first from the terminal",
        "⬥ Terminal answer one.",
        FOOTER,
        "» **user:** s1-second continues",
        "⬥ Terminal answer two.",
        FOOTER,
    ]
    threads = [t for t in running.twin.threads(running.channel) if t.name.startswith("Sync: ")]
    assert len(threads) == 1


async def test_an_attached_session_is_mirrored_with_typing_while_busy(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST)
    gate = asyncio.Event()
    scripted_model.add_rule(
        "s2-attach", [bash("echo attached"), text("Attached done.", gate=gate)], title="Attached"
    )
    endpoint = running.app.opencode.endpoint()
    run = asyncio.create_task(
        opencode_run(
            world,
            running.project,
            ["s2-attach", "please"],
            attach=endpoint.base_url,
            password=endpoint.password,
        )
    )
    try:
        thread = await sync_thread(running)
        await running.twin.wait_for_typing(channel=thread, timeout=TIMEOUT)
        await wait_text(running, thread, "┣ bash")
    finally:
        gate.set()
    assert (await run).returncode == 0
    await wait_text(running, thread, "Attached done.")


async def test_disable_sync_creates_no_thread(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(KIMAKI_DISABLE_SYNC="1", KIMAKI_SYNC_INTERVAL="0.5")
    assert running.app.sync is None
    scripted_model.add_rule("s3-off", [text("unsynced")])
    result = await opencode_run(world, running.project, ["s3-off"])
    assert result.returncode == 0
    # A Discord-started session in the same channel still works.
    scripted_model.add_rule("s3-discord", [text("discord works")])
    since = running.twin.cursor()
    running.twin.user(running.owner).send(running.channel, "s3-discord hi")
    thread = await running.twin.wait_for_thread(
        parent=running.channel, since=since, timeout=TIMEOUT
    )
    await wait_text(running, thread, "discord works")
    assert not [t for t in running.twin.threads(running.channel) if t.name.startswith("Sync: ")]


async def test_a_discord_session_never_gets_a_sync_thread(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(**FAST)
    scripted_model.add_rule("s4-discord", [text("from discord")])
    since = running.twin.cursor()
    running.twin.user(running.owner).send(running.channel, "s4-discord hello")
    thread = await running.twin.wait_for_thread(
        parent=running.channel, since=since, timeout=TIMEOUT
    )
    await wait_text(running, thread, "from discord")
    ticks = running.app.sync.ticks  # type: ignore[union-attr]
    await eventually(lambda: _ticked(running, ticks + 3), what="three more sync ticks")
    assert [t.id for t in running.twin.threads(running.channel)] == [thread.id]
    assert "» **user:**" not in transcript(running, thread)


async def _ticked(running: Running, count: int) -> bool:
    return running.app.sync is not None and running.app.sync.ticks >= count


async def test_handoff_terminal_discord_terminal_posts_each_message_once(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST)
    scripted_model.add_rule("s5-one", [text("One from the terminal.")], title="Handoff")
    scripted_model.add_rule("s5-two", [text("Two for Discord.")])
    scripted_model.add_rule("s5-three", [text("Three back in the terminal.")])
    assert (await opencode_run(world, running.project, ["s5-one"])).returncode == 0
    thread = await sync_thread(running)
    await wait_text(running, thread, "One from the terminal.")
    record = record_of(running, thread)

    running.twin.user(running.owner).send(thread, "s5-two from my phone")
    await wait_text(running, thread, "Two for Discord.")
    back = await opencode_run(
        world, running.project, ["s5-three", "at", "my", "desk"], session=record.session_id
    )
    assert back.returncode == 0
    await wait_text(running, thread, "Three back in the terminal.")
    await wait_footers(running, thread, 3)
    await running.app.bridges.settle()
    await running.app.outbox.flush(record.thread_id)

    assert lines_of(running, thread) == [
        "» **user:** s5-one",
        "⬥ One from the terminal.",
        FOOTER,
        "⬥ Two for Discord.",
        FOOTER,
        "» **user:** s5-three at my desk",
        "⬥ Three back in the terminal.",
        FOOTER,
    ]


async def test_a_subagent_gets_no_thread_of_its_own(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST)
    task = tool_call(
        "task", description="look around", prompt="s6-child inspect", subagent_type="general"
    )
    scripted_model.add_rule("s6-parent", [task, text("Parent done.")], title="Parent")
    scripted_model.add_rule("s6-child", [text("Child done.")])
    assert (await opencode_run(world, running.project, ["s6-parent", "go"])).returncode == 0
    thread = await sync_thread(running)
    await wait_text(running, thread, "Parent done.")
    ticks = running.app.sync.ticks  # type: ignore[union-attr]
    await eventually(lambda: _ticked(running, ticks + 3), what="more sync ticks")
    assert len(running.twin.threads(running.channel)) == 1
    assert "Child done." not in transcript(running, thread)


async def test_raising_verbosity_does_not_flood_old_threads(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST, KIMAKI_VERBOSITY="text_only")
    scripted_model.add_rule("s7-quiet", [bash("echo hidden"), text("Visible text.")], title="Quiet")
    assert (await opencode_run(world, running.project, ["s7-quiet"])).returncode == 0
    thread = await sync_thread(running)
    await wait_text(running, thread, "Visible text.")
    before = lines_of(running, thread, footers=False)
    running.app.store.channel_settings.set_verbosity(
        ChannelID(running.channel.id), Verbosity.TOOLS_AND_TEXT
    )
    record = record_of(running, thread)
    running.app.store.session_cursors.forget(record.session_id)  # force a re-read
    ticks = running.app.sync.ticks  # type: ignore[union-attr]
    await eventually(lambda: _ticked(running, ticks + 3), what="more sync ticks")
    await running.app.bridges.settle()
    assert lines_of(running, thread, footers=False) == before
    assert "┣ bash" not in transcript(running, thread)


async def test_a_deleted_sync_thread_is_not_recreated(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST)
    scripted_model.add_rule("s8-gone", [text("First.")], title="Doomed")
    scripted_model.add_rule("s8-more", [text("More.")])
    assert (await opencode_run(world, running.project, ["s8-gone"])).returncode == 0
    thread = await sync_thread(running)
    await wait_text(running, thread, "First.")
    record = record_of(running, thread)
    running.twin.ops.delete_channel(running.twin.channel(thread.id))

    async def marked() -> bool:
        found = running.app.store.threads.get(record.thread_id)
        return found is not None and found.deleted

    await eventually(marked, what="the deletion to be recorded")
    more = await opencode_run(world, running.project, ["s8-more"], session=record.session_id)
    assert more.returncode == 0
    ticks = running.app.sync.ticks  # type: ignore[union-attr]
    await eventually(lambda: _ticked(running, ticks + 3), what="more sync ticks")
    assert running.twin.threads(running.channel) == []


async def test_old_sessions_are_left_alone_and_a_bound_one_continues_after_a_restart(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST, KIMAKI_SYNC_GRACE="0")
    scripted_model.add_rule("s9-bound", [text("Bound answer.")], title="Bound")
    scripted_model.add_rule("s9-after", [text("After the restart.")])
    scripted_model.add_rule("s9-old", [text("Old answer.")], title="Old")
    assert (await opencode_run(world, running.project, ["s9-bound"])).returncode == 0
    thread = await sync_thread(running)
    await wait_text(running, thread, "Bound answer.")
    record = record_of(running, thread)
    await running.app.bridges.settle()
    await running.app.outbox.flush(record.thread_id)
    await running.app.stop()

    # While kimaki is down: an unrelated session starts, and the bound one gets a turn.
    assert (await opencode_run(world, running.project, ["s9-old"])).returncode == 0
    after = await opencode_run(world, running.project, ["s9-after"], session=record.session_id)
    assert after.returncode == 0
    restarted = await start_kimaki(restart=running, **FAST, KIMAKI_SYNC_GRACE="0")

    await wait_text(restarted, thread, "After the restart.")
    ticks = restarted.app.sync.ticks  # type: ignore[union-attr]
    await eventually(lambda: _ticked(restarted, ticks + 3), what="more sync ticks")
    assert [t.id for t in restarted.twin.threads(restarted.channel)] == [thread.id]
    await restarted.app.bridges.settle()
    await restarted.app.outbox.flush(record.thread_id)
    assert lines_of(restarted, thread) == [
        "» **user:** s9-bound",
        "⬥ Bound answer.",
        FOOTER,
        "» **user:** s9-after",
        "⬥ After the restart.",
        FOOTER,
    ]


async def test_sync_carries_on_after_the_opencode_server_restarts(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World, opencode_server: object
) -> None:
    from kimaki.opencode.server import OpenCodeServer

    assert isinstance(opencode_server, OpenCodeServer)
    running = await start_kimaki(**FAST)
    scripted_model.add_rule("s10-before", [text("Before the restart.")], title="Before")
    scripted_model.add_rule("s10-after", [text("After the restart.")], title="After")
    assert (await opencode_run(world, running.project, ["s10-before"])).returncode == 0
    first = await sync_thread(running, lambda t: t.name == "Sync: Before")
    await wait_text(running, first, "Before the restart.")

    old_pid = opencode_server.pid
    assert old_pid is not None
    import os
    import signal

    os.kill(old_pid, signal.SIGKILL)
    await opencode_server.wait_ready(90)
    assert (await opencode_run(world, running.project, ["s10-after"])).returncode == 0
    second = await sync_thread(running, lambda t: t.name == "Sync: After")
    await wait_text(running, second, "After the restart.")


async def test_a_vanished_or_hung_directory_does_not_stop_the_others(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    """One listing names sessions of every directory; the work per directory is what can
    hang (here: reading a session's messages), and it hangs alone."""
    import shutil

    healthy = await start_kimaki(**FAST)
    app = healthy.app
    assert app.sync is not None
    # A timeout far beyond the test's: only not waiting on the hung work lets it pass.
    app.sync.settings = dataclasses.replace(app.sync.settings, directory_timeout=3600)
    store = app.store
    gone = world.make_project("s11-gone")
    hung = world.make_project("s11-hung")
    guild = healthy.twin.seed.guild  # type: ignore[union-attr]
    for path in (gone, hung):
        channel = healthy.twin.create_channel(guild, path.name)
        store.projects.add(ChannelID(channel.id), guild.id, path)  # type: ignore[arg-type]
    shutil.rmtree(gone)

    stuck = asyncio.Event()
    real_all_messages, real_messages = app.opencode.all_messages, app.opencode.messages

    async def hang_in(directory: str) -> None:
        if directory == str(hung):
            stuck.set()
            await asyncio.Event().wait()  # this directory's OpenCode calls never answer

    async def all_messages(session_id, directory, **kw):  # type: ignore[no-untyped-def]
        await hang_in(directory)
        return await real_all_messages(session_id, directory, **kw)

    async def messages(session_id, directory, **kw):  # type: ignore[no-untyped-def]
        await hang_in(directory)
        return await real_messages(session_id, directory, **kw)

    app.opencode.all_messages = all_messages  # type: ignore[method-assign]
    app.opencode.messages = messages  # type: ignore[method-assign]
    stuck_session = await app.opencode.create_session(str(hung), title="Stuck")
    await asyncio.wait_for(stuck.wait(), TIMEOUT)  # sync is stuck on the hung directory
    scripted_model.add_rule("s11-ok", [text("Still syncing.")], title="Healthy")
    assert (await opencode_run(world, healthy.project, ["s11-ok"])).returncode == 0
    thread = await sync_thread(healthy)
    await wait_text(healthy, thread, "Still syncing.")

    async def only_the_hung_one_waits() -> bool:
        return app.sync is not None and list(app.sync.pending) == [stuck_session.id]

    await eventually(only_the_hung_one_waits, what="the hung directory's session to wait alone")


async def test_a_follow_up_in_a_sync_thread_mid_answer_keeps_every_answer(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """An attached terminal's turn is still streaming when its user types a follow-up (held
    by OpenCode: the running answer must still be posted) and someone replies in Discord
    (held by kimaki: the server is busy, so no second turn starts)."""
    running = await start_kimaki(**FAST)
    gate = asyncio.Event()
    scripted_model.add_rule("s9-first", [text("Terminal's answer.", gate=gate)], title="Mid")
    scripted_model.add_rule("s9-more", [text("Terminal's second answer.")])
    scripted_model.add_rule("s9-second", [text("Discord's answer.")])
    directory = str(running.project)
    terminal = running.app.opencode  # plays an attached TUI through the server's API
    session = await terminal.create_session(directory)
    try:
        await terminal.prompt_async(session.id, directory, [TextInput("s9-first go")])
        thread = await sync_thread(running)
        await eventually(lambda: answer_streaming(running, session.id), what="the answer streaming")
        await terminal.prompt_async(session.id, directory, [TextInput("s9-more too")])
        await reconcile_with_follow_up(running, thread.id, "s9-more")
        reply = running.twin.user(running.owner).send(thread, "s9-second from the phone")
        await marked_queued(running, reply)
    finally:
        gate.set()
    await wait_text(running, thread, "Discord's answer.")
    answers = [
        line for m in bot_lines(running, thread) for line in m.split("\n") if line.startswith("⬥")
    ]
    assert answers == [
        "⬥ Terminal's answer.",
        "⬥ Terminal's second answer.",
        "⬥ Discord's answer.",
    ]
    assert scripted_model.overlaps_of(session.id) == []


async def test_a_thread_create_cut_off_by_the_directory_timeout_is_adopted_not_repeated(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    """Discord made the thread, but the scan's timeout cancelled the call before the answer:
    the next tick finds the thread the recorded intent made and mirrors into it."""
    running = await start_kimaki(**FAST)
    assert running.app.sync is not None
    running.app.sync.settings = dataclasses.replace(
        running.app.sync.settings, directory_timeout=1.5
    )
    scripted_model.add_rule("s-cut", [text("Cut off, then adopted.")], title="Cut off")
    hold = running.twin.hold_requests("POST", "/channels/*/threads", after_processing=True)
    try:
        assert (await opencode_run(world, running.project, ["s-cut", "go"])).returncode == 0
        await hold.wait_held(1, timeout=TIMEOUT)
        thread = await sync_thread(running)
        await wait_text(running, thread, "Cut off, then adopted.")
    finally:
        hold.release()
    record = record_of(running, thread)
    assert record.thread_id == thread.id
    # The turn's footer is appended to its last message by an edit, after the answer shows.
    await wait_footers(running, thread, 1)
    await running.app.bridges.settle()
    await running.app.outbox.flush(record.thread_id)
    assert [t.id for t in running.twin.threads(running.channel)] == [thread.id]
    assert lines_of(running, thread) == ["» **user:** s-cut go", "⬥ Cut off, then adopted.", FOOTER]
