"""Delivery through real discord.py into the twin: order, flags, crashes, errors, faults."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest

from discord_twin import Twin
from discord_twin.state import Channel
from kimaki.outbox import Outbox
from kimaki.store import (
    OutboxRowID,
    OutboxState,
    Outgoing,
    PartID,
    SessionID,
    Store,
    ThreadID,
    part_key,
    synthetic_key,
)
from kimaki.util.backoff import Backoff
from tests.support.waiting import eventually

MakeThread = Callable[[str], tuple[Channel, ThreadID]]
MESSAGES_ROUTE = "/channels/{channel_id}/messages"
SILENT = 1 << 12  # SUPPRESS_NOTIFICATIONS


def session_of(store: Store, thread_id: ThreadID) -> SessionID:
    record = store.threads.get(thread_id)
    assert record is not None
    return record.session_id


def enqueue(store: Store, thread_id: ThreadID, *texts: str, notify: bool = False) -> None:
    """Queue each text as its own rendered part, after what the thread already has."""
    start = len(store.outbox.in_thread(thread_id))
    parts = [PartID(f"prt_{thread_id}_{start + i}") for i in range(len(texts))]
    messages = [
        Outgoing(part_key(part), text, notify=notify, parts=(part,))
        for part, text in zip(parts, texts, strict=True)
    ]
    store.enqueue(thread_id, session_of(store, thread_id), messages)


def posts_to(twin: Twin, thread: Channel) -> list[dict[str, Any]]:
    return [
        r.body
        for r in twin.requests_to("POST", MESSAGES_ROUTE)
        if r.path == f"/channels/{thread.id}/messages"
    ]


@pytest.fixture
async def outbox(store: Store, twin_client: discord.Client) -> AsyncIterator[Outbox]:
    box = Outbox(store, twin_client, backoff=Backoff(initial=0.02, maximum=0.1))
    try:
        yield box
    finally:
        await box.stop()


async def test_rows_are_sent_in_order_with_their_nonces_and_flags(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("order")
    user_line = Outgoing(synthetic_key("user", "msg_1"), "» **user:** hi", notify=True)
    store.enqueue(thread_id, session_of(store, thread_id), [user_line])
    enqueue(store, thread_id, "one", "two @everyone <@&1>", "three")
    await outbox.start()
    await outbox.flush(thread_id, timeout=10)

    rows = store.outbox.in_thread(thread_id)
    sent = twin.messages(thread)
    assert [m.content for m in sent] == [
        "» **user:** hi",
        "one",
        "two @everyone <@&1>",
        "three",
    ]
    assert [r.content for r in rows] == [m.content for m in sent]
    assert all(r.state is OutboxState.SENT for r in rows)
    assert [r.discord_message_id for r in rows] == [m.id for m in sent]
    assert [m.nonce for m in sent] == [r.nonce for r in rows]
    assert [bool(m.flags & SILENT) for m in sent] == [False, True, True, True]
    assert twin.seed is not None
    assert all(m.author_id == twin.seed.bot.id for m in sent)
    assert not any(m.mention_everyone or m.mention_roles for m in sent)
    bodies = posts_to(twin, thread)
    assert all(b["enforce_nonce"] is True for b in bodies)
    assert all(b["allowed_mentions"]["parse"] == [] for b in bodies)


async def test_threads_are_sent_in_parallel_each_in_its_own_order(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    a, a_id = make_thread("a")
    b, b_id = make_thread("b")
    enqueue(store, a_id, *[f"a{i}" for i in range(6)])
    enqueue(store, b_id, *[f"b{i}" for i in range(6)])
    await outbox.start()
    await outbox.flush(timeout=10)
    assert [m.content for m in twin.messages(a)] == [f"a{i}" for i in range(6)]
    assert [m.content for m in twin.messages(b)] == [f"b{i}" for i in range(6)]


async def test_kick_after_enqueue_sends_new_rows_of_a_running_outbox(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("kick")
    await outbox.start()
    enqueue(store, thread_id, "first")
    outbox.kick(thread_id)
    enqueue(store, thread_id, "second")  # may land while the worker is busy
    outbox.kick(thread_id)
    await outbox.flush(thread_id, timeout=10)
    assert [m.content for m in twin.messages(thread)] == ["first", "second"]


async def test_rows_left_pending_by_a_crash_are_sent_on_start(
    twin: Twin, store: Store, twin_client: discord.Client, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("resume")
    enqueue(store, thread_id, "queued before the crash", "and this")
    # Crash after counting the attempt but before the request left.
    store.outbox.note_attempt(store.outbox.in_thread(thread_id)[0].id)
    outbox = Outbox(store, twin_client)
    await outbox.start()
    try:
        await outbox.flush(thread_id, timeout=10)
    finally:
        await outbox.stop()
    assert [m.content for m in twin.messages(thread)] == ["queued before the crash", "and this"]
    assert store.outbox.pending_count() == 0


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


async def test_a_row_sent_but_not_marked_is_not_posted_twice(
    twin: Twin,
    store: Store,
    twin_client: discord.Client,
    make_thread: MakeThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    thread, thread_id = make_thread("crash")
    enqueue(store, thread_id, "only once", "after it")

    def crash(*_: object) -> bool:
        raise Crash

    monkeypatch.setattr(store.outbox, "mark_sent", crash)
    first_run = Outbox(store, twin_client)
    await first_run.start()
    posted = await twin.wait_for_message(channel=thread, timeout=5)

    async def worker_died() -> bool:
        return not first_run.active_threads

    await eventually(worker_died, timeout=5, what="the crashed worker to end")
    await first_run.stop()
    assert posted.content == "only once"
    assert store.outbox.in_thread(thread_id)[0].state is OutboxState.PENDING

    monkeypatch.undo()
    restarted = Outbox(store, twin_client)
    await restarted.start()
    try:
        await restarted.flush(thread_id, timeout=10)
    finally:
        await restarted.stop()
    assert [m.content for m in twin.messages(thread)] == ["only once", "after it"]
    assert len(posts_to(twin, thread)) == 3  # the first message was sent twice
    first = store.outbox.in_thread(thread_id)[0]
    assert first.state is OutboxState.SENT and first.discord_message_id == posted.id


async def test_a_deleted_thread_fails_its_rows_and_tells_the_caller(
    twin: Twin, store: Store, twin_client: discord.Client, make_thread: MakeThread
) -> None:
    gone, gone_id = make_thread("gone")
    alive, alive_id = make_thread("alive")
    enqueue(store, gone_id, "lost 1", "lost 2")
    enqueue(store, alive_id, "kept 1", "kept 2")
    twin.ops.delete_channel(gone)
    reported: list[tuple[ThreadID, int]] = []

    async def on_thread_gone(thread_id: ThreadID, exc: discord.HTTPException) -> None:
        reported.append((thread_id, exc.status))
        store.threads.mark_deleted(thread_id)

    outbox = Outbox(store, twin_client, on_thread_gone=on_thread_gone)
    await outbox.start()
    try:
        await outbox.flush(timeout=10)
        assert reported == [(gone_id, 404)]
        assert [r.state for r in store.outbox.in_thread(gone_id)] == [OutboxState.FAILED] * 2
        assert all("404" in (r.last_error or "") for r in store.outbox.in_thread(gone_id))
        assert [m.content for m in twin.messages(alive)] == ["kept 1", "kept 2"]

        # Later rows for the deleted thread are dropped without asking Discord again.
        requests_before = len(posts_to(twin, gone))
        enqueue(store, gone_id, "too late")
        outbox.kick(gone_id)
        await outbox.flush(gone_id, timeout=10)
        assert store.outbox.in_thread(gone_id)[-1].last_error == "thread deleted"
        assert len(posts_to(twin, gone)) == requests_before == 1
        assert reported == [(gone_id, 404)]
    finally:
        await outbox.stop()


async def test_losing_access_keeps_the_rows_and_sends_them_once_access_returns(
    twin: Twin,
    store: Store,
    twin_client: discord.Client,
    make_thread: MakeThread,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """403 is "no access now", not "gone": the thread is kept and its messages wait."""
    assert twin.seed is not None
    thread, thread_id = make_thread("forbidden")
    enqueue(store, thread_id, "waits 1", "waits 2")
    twin.revoke_access(twin.seed.channel)  # the channel and its threads answer 403
    reported: list[int] = []
    outbox = Outbox(
        store,
        twin_client,
        on_thread_gone=lambda _, exc: reported.append(exc.status),
        backoff=Backoff(initial=0.05, maximum=0.2),
    )
    await outbox.start()
    try:

        async def refused_a_few_times() -> bool:
            return len(posts_to(twin, thread)) >= 3

        await eventually(refused_a_few_times, timeout=10, what="retries while denied")
        assert [r.state for r in store.outbox.in_thread(thread_id)] == [OutboxState.PENDING] * 2
        twin.restore_access(twin.seed.channel)
        await outbox.flush(thread_id, timeout=10)
    finally:
        await outbox.stop()
    assert reported == []
    assert [m.content for m in twin.messages(thread)] == ["waits 1", "waits 2"]
    denied = [r for r in caplog.records if "no access to thread" in r.getMessage()]
    assert len(denied) == 1, "said once, however many retries"


async def test_a_refused_message_fails_alone_and_the_next_is_sent(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("refused")
    enqueue(store, thread_id, "before", "x" * 2001, "after")
    await outbox.start()
    await outbox.flush(thread_id, timeout=10)
    assert [m.content for m in twin.messages(thread)] == ["before", "after"]
    states = [(r.state, r.last_error) for r in store.outbox.in_thread(thread_id)]
    assert states[1][0] is OutboxState.FAILED and "400" in (states[1][1] or "")
    assert [s for s, _ in states] == [OutboxState.SENT, OutboxState.FAILED, OutboxState.SENT]


async def test_injected_500_and_429_are_delivered_once(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("faults")
    path = f"/channels/{thread.id}/messages"
    twin.add_http_fault("POST", path, 429, retry_after=0.05)
    twin.add_http_fault("POST", path, 500)
    enqueue(store, thread_id, "through a 429", "through a 500")
    await outbox.start()
    await outbox.flush(thread_id, timeout=15)  # discord.py waits 1 s before retrying a 500
    assert [m.content for m in twin.messages(thread)] == ["through a 429", "through a 500"]
    assert [r.status for r in twin.requests_to("POST", MESSAGES_ROUTE) if r.path == path] == [
        429,
        500,
        200,
        200,
    ]


async def test_a_thread_with_server_errors_retries_without_blocking_others(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    # discord.py gives up on a 503 at once, so the outbox's own backoff retries it.
    flaky, flaky_id = make_thread("flaky")
    fine, fine_id = make_thread("fine")
    fault = twin.add_http_fault("POST", f"/channels/{flaky.id}/messages", 503, count=None)
    enqueue(store, flaky_id, "eventually 1", "eventually 2")
    enqueue(store, fine_id, "right away")
    await outbox.start()
    await outbox.flush(fine_id, timeout=10)
    assert [m.content for m in twin.messages(fine)] == ["right away"]

    async def retried() -> bool:
        return fault.hits >= 3

    await eventually(retried, timeout=10, what="the outbox to retry the 503")
    first = store.outbox.in_thread(flaky_id)[0]
    assert first.state is OutboxState.PENDING and "503" in (first.last_error or "")
    assert twin.messages(flaky) == []

    twin.faults.rules.remove(fault)
    await outbox.flush(flaky_id, timeout=10)
    assert [m.content for m in twin.messages(flaky)] == ["eventually 1", "eventually 2"]


async def test_sending_into_an_archived_thread_unarchives_it(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("archived")
    twin.ops.update_channel(thread, {"archived": True})
    enqueue(store, thread_id, "wake up")
    await outbox.start()
    await outbox.flush(thread_id, timeout=10)
    assert [m.content for m in twin.messages(thread)] == ["wake up"]
    assert not twin.channel(thread.id).archived


async def test_flush_times_out_while_rows_stay_pending(
    twin: Twin, store: Store, outbox: Outbox, make_thread: MakeThread
) -> None:
    thread, thread_id = make_thread("stuck")
    twin.add_http_fault("POST", f"/channels/{thread.id}/messages", 503, count=None)
    enqueue(store, thread_id, "stuck")
    await outbox.start()
    with pytest.raises(TimeoutError, match="1 message"):
        await outbox.flush(thread_id, timeout=0.3)
    await outbox.stop()
    assert store.outbox.pending_count(thread_id) == 1


async def test_a_store_error_in_a_worker_is_retried_later(
    twin: Twin,
    store: Store,
    outbox: Outbox,
    make_thread: MakeThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    thread, thread_id = make_thread("locked")
    enqueue(store, thread_id, "after the lock")
    real_note_attempt = store.outbox.note_attempt
    calls: list[object] = []

    def locked_once(row_id: OutboxRowID) -> None:
        calls.append(row_id)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        real_note_attempt(row_id)

    monkeypatch.setattr(store.outbox, "note_attempt", locked_once)
    await outbox.start()
    await twin.wait_for_message(channel=thread, timeout=5)
    await outbox.flush(thread_id, timeout=5)
    assert [m.content for m in twin.messages(thread)] == ["after the lock"]
    assert len(calls) == 2
