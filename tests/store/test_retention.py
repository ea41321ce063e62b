"""Retention on a real store and the real OpenCode: what goes, what stays, bounded per run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from kimaki.opencode.rest import OpenCodeClient
from kimaki.retention import DAY, Retention, RetentionSettings
from kimaki.store import (
    ChannelID,
    DiscordMessageID,
    GuildID,
    Origin,
    Outgoing,
    PartID,
    SessionCursor,
    SessionID,
    Store,
    ThreadID,
    part_key,
    synthetic_key,
)
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import StartKimaki
from tests.support.waiting import eventually

NOW = time.time()


def sent_rows(store: Store, thread: ThreadID, session: SessionID, count: int, tag: str) -> None:
    for n in range(count):
        part = PartID(f"prt_{tag}_{n}")
        store.enqueue(thread, session, [Outgoing(part_key(part), f"{tag} {n}", parts=(part,))])
    for row in store.outbox.in_thread(thread):
        if row.content.startswith(tag):
            store.outbox.mark_sent(row.id, DiscordMessageID(10_000 + row.id))


def age_rows(store: Store, days: float) -> None:
    """Make every sent row look `days` old (as if sent then)."""
    store.db.execute("UPDATE outbox SET sent_at = ?", (int((NOW - days * DAY) * 1000),))


async def test_old_sent_rows_go_in_bounded_batches_and_pending_rows_and_parts_stay(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path)
    project = tmp_path / "project"
    store.projects.add(ChannelID(1), GuildID(1), project)
    thread, session = ThreadID(10), SessionID("ses_keep")
    store.threads.add(thread, session, ChannelID(1), project, Origin.DISCORD)
    sent_rows(store, thread, session, 30, "old")
    age_rows(store, 40)
    sent_rows(store, thread, session, 5, "new")
    store.enqueue(thread, None, [Outgoing(synthetic_key("note", "x"), "pending note")])
    settings = RetentionSettings(keep_days=30, batch=7, max_rows=20, sessions_per_run=0)
    retention = Retention(store, OpenCodeClient(lambda: None), [], settings, clock=lambda: NOW)

    first = await retention.run()
    assert first.outbox_rows == 20  # the cap of one run
    second = await retention.run()
    assert second.outbox_rows == 10
    left = [r.content for r in store.outbox.in_thread(thread)]
    assert left == [*(f"new {n}" for n in range(5)), "pending note"]
    # Exactly-once does not depend on the rows: every part is still handled.
    assert len(store.handled_parts.handled(session)) == 35
    assert store.housekeeping.get("retention") is not None
    store.close()


async def test_old_sent_prompts_of_the_queue_go_and_waiting_ones_stay(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    project = tmp_path / "project"
    store.projects.add(ChannelID(1), GuildID(1), project)
    thread, session = ThreadID(10), SessionID("ses_queue")
    store.threads.add(thread, session, ChannelID(1), project, Origin.DISCORD)
    rows = {
        source: store.queued_prompts.add(
            thread, session, source, author_id=1, author_name="owner", text=source
        )
        for source in ("old", "recent", "waiting")
    }
    store.queued_prompts.mark_sent([rows["old"].id, rows["recent"].id])  # type: ignore[union-attr]
    old = int((NOW - 40 * DAY) * 1000)
    store.db.execute("UPDATE queued_prompts SET sent_at = ? WHERE source = 'old'", (old,))
    settings = RetentionSettings(keep_days=30, sessions_per_run=0)
    retention = Retention(store, OpenCodeClient(lambda: None), [], settings, clock=lambda: NOW)
    assert (await retention.run()).queued_rows == 1
    assert store.queued_prompts.by_source("old") is None
    assert store.queued_prompts.by_source("recent") is not None
    assert store.queued_prompts.by_source("waiting") is not None
    store.close()


async def test_cursors_of_unbound_sessions_and_parts_of_deleted_threads_go(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path)
    project = tmp_path / "project"
    store.projects.add(ChannelID(1), GuildID(1), project)
    old, fresh = int((NOW - 40 * DAY) * 1000), int(NOW * 1000)
    store.session_cursors.save(SessionCursor(SessionID("ses_unbound_old"), 1, "t", old))
    store.session_cursors.save(SessionCursor(SessionID("ses_unbound_new"), 1, "t", fresh))
    bound, gone = SessionID("ses_bound"), SessionID("ses_gone")
    store.threads.add(ThreadID(20), bound, ChannelID(1), project, Origin.SYNC)
    store.threads.add(ThreadID(21), gone, ChannelID(1), project, Origin.SYNC)
    store.session_cursors.save(SessionCursor(bound, 1, "t", old))
    sent_rows(store, ThreadID(20), bound, 2, "b")
    sent_rows(store, ThreadID(21), gone, 2, "g")
    store.threads.mark_deleted(ThreadID(21))
    settings = RetentionSettings(sessions_per_run=0)
    retention = Retention(store, OpenCodeClient(lambda: None), [], settings, clock=lambda: NOW)

    report = await retention.run()
    assert report.cursors == 1 and report.sessions_forgotten == [gone]
    assert store.session_cursors.get(SessionID("ses_unbound_old")) is None
    assert store.session_cursors.get(SessionID("ses_unbound_new")) is not None
    assert store.session_cursors.get(bound) is not None  # a bound session keeps its cursor
    assert len(store.handled_parts.handled(bound)) == 2
    assert store.handled_parts.handled(gone) == set()
    store.close()


async def test_sessions_deleted_in_opencode_are_forgotten_a_few_per_run(
    opencode: OpenCodeClient, make_project: Callable[[], Path], tmp_path: Path
) -> None:
    project = make_project()
    store = Store.open(tmp_path / "data")
    store.projects.add(ChannelID(1), GuildID(1), project)
    sessions = [await opencode.create_session(str(project)) for _ in range(3)]
    for n, session in enumerate(sessions):
        store.threads.add(ThreadID(100 + n), session.id, ChannelID(1), project, Origin.DISCORD)
        sent_rows(store, ThreadID(100 + n), session.id, 1, f"s{n}")
    doomed = sessions[1].id
    endpoint = opencode.endpoint()
    async with aiohttp.ClientSession(headers=endpoint.headers) as http:
        url = f"{endpoint.base_url}/session/{doomed}"
        async with http.delete(url, params={"directory": str(project)}) as resp:
            assert resp.status == 200, await resp.text()
    settings = RetentionSettings(sessions_per_run=2)
    retention = Retention(store, opencode, [], settings, clock=lambda: NOW)

    first = await retention.run()
    assert first.sessions_checked == 2 and first.sessions_forgotten == [doomed]
    assert store.handled_parts.handled(doomed) == set()
    second = await retention.run()  # goes on with the third thread, then round again
    assert second.sessions_checked == 1 and second.sessions_forgotten == []
    for kept in (sessions[0].id, sessions[2].id):
        assert len(store.handled_parts.handled(kept)) == 1
    third = await retention.run()
    assert third.sessions_checked == 2
    store.close()


async def test_the_memory_sweep_forgets_idle_things_only(tmp_path: Path) -> None:
    calls: list[float] = []

    def sweeper(idle_after: float) -> int:
        calls.append(idle_after)
        return 3

    def broken(_: float) -> int:
        raise RuntimeError("a bug in one sweeper")

    store = Store.open(tmp_path)
    settings = RetentionSettings(idle_after=123.0)
    retention = Retention(store, OpenCodeClient(lambda: None), [broken, sweeper], settings)
    assert retention.sweep() == 3 and calls == [123.0]
    await asyncio.sleep(0)
    store.close()


async def test_an_idle_bridge_is_forgotten_and_its_thread_goes_on_working(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    name = running.project.name
    scripted_model.add_rule(f"idle-one-{name}", [text("idle one answer.")])
    scripted_model.add_rule(f"idle-two-{name}", [text("idle two answer.")])
    thread, record = await running.open_thread(f"idle-one-{name} hi")
    twin = running.twin
    await twin.wait_for_message(
        lambda m: "idle one answer." in m.content, channel=thread, timeout=60
    )
    bridges = running.app.bridges

    async def forgotten() -> bool:
        bridges.prune_idle(0.0)
        return all(b.thread_id != record.thread_id for b in bridges.running())

    await eventually(forgotten, timeout=30, what="the idle bridge forgotten")
    assert running.app.turns.prune_locks(0.0) >= 1, "the prompt path's free lock went too"
    since = twin.cursor()
    twin.user(running.owner).send(thread, f"idle-two-{name} again")
    await twin.wait_for_message(
        lambda m: "idle two answer." in m.content, channel=thread, since=since, timeout=60
    )
