"""Missed messages: written while kimaki was stopped or its gateway session lost, each
allowed one run once (or noted as late), in order; never twice, whatever the marks say."""

from __future__ import annotations

import asyncio

from kimaki.opencode.models import Message
from kimaki.origin import message_origin
from kimaki.render import NOTICE_PREFIX
from kimaki.store import Store, ThreadID, ThreadRecord
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60


async def prompts_from_discord(running: Running, record: ThreadRecord) -> list[str]:
    """The Discord message ids the thread's session was prompted with, oldest first."""
    page = await running.app.opencode.messages(record.session_id, str(record.directory))
    origins = [message_origin(m) for m in page.messages if isinstance(m, Message)]
    return [o.message_id for o in origins if o is not None and o.message_id]


async def caught_up(running: Running, runs: int = 1) -> None:
    async def done() -> bool:
        return running.app.catch_up.runs >= runs

    await eventually(done, timeout=TIMEOUT, what="the catch-up of missed messages")
    await running.app.catch_up.wait()


async def test_messages_written_while_stopped_are_run_once_after_the_start(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    name = running.project.name
    scripted_model.add_rule(f"cu-first-{name}", [text("cu first answer.")])
    scripted_model.add_rule(f"cu-later-{name}", [text("cu later answer.")])
    scripted_model.add_rule(f"cu-fresh-{name}", [text("cu fresh answer.")])
    thread, record = await running.open_thread(f"cu-first-{name} hello")
    twin, owner = running.twin, running.twin.user(running.owner)
    await twin.wait_for_message(
        lambda m: "cu first answer." in m.content, channel=thread, timeout=TIMEOUT
    )
    await running.app.stop()

    # While kimaki is stopped: a follow-up, a new session, and a stranger's message.
    assert twin.seed is not None
    stranger = twin.create_user("cu-stranger")
    twin.add_member(twin.seed.guild, stranger)
    later = owner.send(thread, f"cu-later-{name}: still there?")
    fresh = owner.send(running.channel, f"cu-fresh-{name}: a new one")
    twin.user(stranger).send(running.channel, f"cu-stranger-{name}: let me in")

    again = await start_kimaki(restart=running)
    await caught_up(again)
    await twin.wait_for_message(
        lambda m: "cu later answer." in m.content, channel=thread, timeout=TIMEOUT
    )
    fresh_thread = twin.channel(fresh.id)  # the thread started from the message takes its id
    await twin.wait_for_message(
        lambda m: "cu fresh answer." in m.content, channel=fresh_thread, timeout=TIMEOUT
    )
    assert await prompts_from_discord(again, record) == [str(record.thread_id), str(later.id)]
    fresh_record = again.app.store.threads.get(ThreadID(fresh_thread.id))
    assert fresh_record is not None
    assert await prompts_from_discord(again, fresh_record) == [str(fresh.id)]
    threads = [t for t in twin.threads(running.channel)]
    assert len(threads) == 2, "the stranger's message starts nothing"
    report = again.app.catch_up.last
    assert report is not None and report.run == 2 and report.skipped == 1

    # The marks lost (as if kimaki died before writing them): OpenCode's own record of
    # which Discord message each prompt came from keeps every message to one run.
    await again.app.stop()
    store = Store.open(again.app.config.data_dir)
    store.db.execute("DELETE FROM channel_marks")
    store.close()
    third = await start_kimaki(restart=again)
    await caught_up(third)
    assert third.app.catch_up.last is not None and third.app.catch_up.last.already >= 3
    assert await prompts_from_discord(third, record) == [str(record.thread_id), str(later.id)]
    assert await prompts_from_discord(third, fresh_record) == [str(fresh.id)]
    assert len(twin.threads(running.channel)) == 2


async def test_a_message_older_than_the_window_gets_a_note_instead_of_a_run(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(KIMAKI_CATCH_UP_WINDOW="0")
    name = running.project.name
    scripted_model.add_rule(f"late-first-{name}", [text("late first answer.")])
    thread, record = await running.open_thread(f"late-first-{name} hi")
    twin, owner = running.twin, running.twin.user(running.owner)
    await twin.wait_for_message(
        lambda m: "late first answer." in m.content, channel=thread, timeout=TIMEOUT
    )
    await running.app.stop()
    late = owner.send(thread, f"late-second-{name}: are you there?")
    late_new = owner.send(running.channel, f"late-new-{name}: start something")

    again = await start_kimaki(restart=running, KIMAKI_CATCH_UP_WINDOW="0")
    await caught_up(again)
    note = await twin.wait_for_message(
        lambda m: m.content.startswith(NOTICE_PREFIX) and "seen late" in m.content,
        channel=thread,
        timeout=TIMEOUT,
    )
    assert "send it again" in note.content
    reply = await twin.wait_for_message(
        lambda m: "seen late" in m.content, channel=running.channel, timeout=TIMEOUT
    )
    assert reply.reference_message_id == late_new.id
    await again.app.outbox.flush(timeout=TIMEOUT)
    assert await prompts_from_discord(again, record) == [str(record.thread_id)]
    assert str(late.id) not in await prompts_from_discord(again, record)
    assert len(twin.threads(running.channel)) == 1


async def test_a_message_missed_during_a_busy_turn_is_queued_like_a_live_one(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """Missed by a gateway session that was not resumed, while the thread's turn runs: the
    catch-up hands it to the one prompt path, which holds it until the turn ends."""
    running = await start_kimaki()
    name = running.project.name
    gate = asyncio.Event()
    scripted_model.add_rule(f"gw-first-{name}", [text("gw first answer.", gate=gate)])
    scripted_model.add_rule(f"gw-missed-{name}", [text("gw missed answer.")])
    twin, owner = running.twin, running.twin.user(running.owner)
    try:
        thread, record = await running.open_thread(f"gw-first-{name} hi")
        await scripted_model.wait_for_request(
            lambda r: f"gw-first-{name}" in r.prompt and r.paused.is_set(), timeout=TIMEOUT
        )
        runs = running.app.catch_up.runs
        twin.gateway.close_connections(4000, hold=True)
        assert twin.seed is not None
        twin.gateway.end_app_sessions(twin.seed.app.id, 4000)  # forgotten: no RESUME possible
        missed = owner.send(thread, f"gw-missed-{name}: while you were away")
        twin.gateway.release()

        await caught_up(running, runs + 1)
        held = running.app.store.queued_prompts.by_source(str(missed.id))
        assert held is not None and held.state == "queued", "held, as a live message would be"
        assert await prompts_from_discord(running, record) == [str(record.thread_id)]
    finally:
        gate.set()
    await twin.wait_for_message(
        lambda m: "gw missed answer." in m.content, channel=thread, timeout=TIMEOUT
    )
    assert await prompts_from_discord(running, record) == [str(record.thread_id), str(missed.id)]
    assert scripted_model.overlaps_of(record.session_id) == []
