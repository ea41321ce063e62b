"""`Store.enqueue`: messages and the parts they cover are stored together or not at all."""

from __future__ import annotations

import pytest

from kimaki.store import (
    OutboxConflict,
    Outgoing,
    PartID,
    SessionCursor,
    SessionID,
    Store,
    StoreError,
    ThreadID,
    ThreadRecord,
    nonce_for,
    part_key,
    synthetic_key,
)

P1, P2, P3 = PartID("prt_1"), PartID("prt_2"), PartID("prt_3")


def rendered(part: PartID, *chunks: str) -> list[Outgoing]:
    return [Outgoing(part_key(part, i), text, parts=(part,)) for i, text in enumerate(chunks)]


def test_enqueue_records_messages_and_handled_parts(store: Store, thread: ThreadRecord) -> None:
    user = Outgoing(synthetic_key("user", "msg_1"), "» **user:** hi", notify=True)
    added = store.enqueue(
        thread.thread_id,
        thread.session_id,
        [user, *rendered(P1, "first half", "second half")],
        skipped_parts=[P2],
    )
    assert added == 3
    rows = store.outbox.in_thread(thread.thread_id)
    assert [r.key for r in rows] == ["user:msg_1#0", "prt_1#0", "prt_1#1"]
    assert all(r.session_id == thread.session_id for r in rows)
    assert store.handled_parts.handled(thread.session_id) == {P1, P2}
    assert store.handled_parts.outbox_key(thread.session_id, P1) == "prt_1#0"
    assert store.handled_parts.is_handled(thread.session_id, P2)
    assert store.handled_parts.outbox_key(thread.session_id, P2) is None  # hidden
    assert not store.handled_parts.is_handled(thread.session_id, P3)


def test_enqueue_again_is_a_no_op(store: Store, thread: ThreadRecord) -> None:
    batch = [*rendered(P1, "a", "b"), *rendered(P2, "c")]
    assert store.enqueue(thread.thread_id, thread.session_id, batch) == 3
    before = store.outbox.in_thread(thread.thread_id)
    assert store.enqueue(thread.thread_id, thread.session_id, batch) == 0
    assert store.enqueue(thread.thread_id, thread.session_id, [Outgoing("user:x#0", "u")]) == 1
    assert store.enqueue(thread.thread_id, thread.session_id, [Outgoing("user:x#0", "u")]) == 0
    assert store.outbox.in_thread(thread.thread_id)[:3] == before
    assert len(store.outbox.in_thread(thread.thread_id)) == 4


def test_a_part_hidden_earlier_is_not_posted_when_verbosity_rises(
    store: Store, thread: ThreadRecord
) -> None:
    store.enqueue(thread.thread_id, thread.session_id, [], skipped_parts=[P1])
    added = store.enqueue(
        thread.thread_id, thread.session_id, [*rendered(P1, "tool output"), *rendered(P2, "new")]
    )
    assert added == 1
    assert [r.key for r in store.outbox.in_thread(thread.thread_id)] == ["prt_2#0"]
    assert store.handled_parts.outbox_key(thread.session_id, P1) is None


def test_a_failure_inside_enqueue_stores_nothing(store: Store, thread: ThreadRecord) -> None:
    # A cursor that violates NOT NULL fails after the rows and parts were written.
    broken = SessionCursor(thread.session_id, None, "t", 1)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        store.enqueue(
            thread.thread_id,
            thread.session_id,
            rendered(P1, "x"),
            skipped_parts=[P2],
            cursor=broken,
        )
    assert store.outbox.in_thread(thread.thread_id) == []
    assert store.handled_parts.handled(thread.session_id) == set()
    assert store.session_cursors.get(thread.session_id) is None


def test_enqueue_advances_the_cursor_in_the_same_transaction(
    store: Store, thread: ThreadRecord
) -> None:
    cursor = SessionCursor(thread.session_id, 1234, "title", 99)
    store.enqueue(thread.thread_id, thread.session_id, rendered(P1, "x"), cursor=cursor)
    assert store.session_cursors.get(thread.session_id) == cursor


def test_enqueue_needs_a_recorded_thread_and_content(store: Store, thread: ThreadRecord) -> None:
    with pytest.raises(StoreError, match="no thread"):
        store.enqueue(ThreadID(1), SessionID("s"), [Outgoing("k#0", "x")])
    with pytest.raises(ValueError, match="no content"):
        store.enqueue(thread.thread_id, thread.session_id, [Outgoing("k#0", "")])
    assert store.outbox.in_thread(thread.thread_id) == []


def test_nonces_are_deterministic_short_and_per_thread() -> None:
    nonce = nonce_for(ThreadID(1), "prt_1#0")
    assert nonce == nonce_for(ThreadID(1), "prt_1#0")
    assert len(nonce) == 25 and nonce.isascii()
    assert nonce != nonce_for(ThreadID(1), "prt_1#1")
    assert nonce != nonce_for(ThreadID(2), "prt_1#0")


def test_stored_nonce_matches_the_derivation(store: Store, thread: ThreadRecord) -> None:
    store.enqueue(thread.thread_id, thread.session_id, rendered(P1, "x"))
    (row,) = store.outbox.in_thread(thread.thread_id)
    assert row.nonce == nonce_for(thread.thread_id, "prt_1#0")


def test_packed_messages_carrying_several_parts_mark_each_handled(
    store: Store, thread: ThreadRecord
) -> None:
    # P1 is split over two messages; the second also carries all of P2.
    messages = [
        Outgoing(part_key(P1, 0), "P1 first piece", parts=(P1,)),
        Outgoing(part_key(P1, 1), "P1 second piece\nP2", parts=(P1, P2)),
    ]
    assert store.enqueue(thread.thread_id, thread.session_id, messages) == 2
    assert store.handled_parts.outbox_key(thread.session_id, P1) == "prt_1#0"
    assert store.handled_parts.outbox_key(thread.session_id, P2) == "prt_1#1"
    # A later packing that repeats old parts next to a new one keeps only what is new.
    later = [
        Outgoing(part_key(P2, 0), "P2 again", parts=(P2,)),
        Outgoing(part_key(P3, 0), "P3", parts=(P3,)),
    ]
    assert store.enqueue(thread.thread_id, thread.session_id, later) == 1
    assert [r.key for r in store.outbox.in_thread(thread.thread_id)][-1] == "prt_3#0"


def test_parts_need_a_session(store: Store, thread: ThreadRecord) -> None:
    with pytest.raises(ValueError, match="session_id"):
        store.enqueue(thread.thread_id, None, [Outgoing("k#0", "x", parts=(P1,))])
    assert store.enqueue(thread.thread_id, None, [Outgoing("notice:1#0", "hello")]) == 1
    assert store.outbox.in_thread(thread.thread_id)[0].session_id is None


def test_a_key_queued_with_other_content_is_refused_and_stores_nothing(
    store: Store, thread: ThreadRecord
) -> None:
    """Two different plans for one key: an error, never a silent drop of the second."""
    assert store.enqueue(thread.thread_id, thread.session_id, rendered(P1, "first")) == 1
    clash = [Outgoing(part_key(P1), "first, then more", parts=(P1, P2))]
    with pytest.raises(OutboxConflict):
        store.enqueue(thread.thread_id, thread.session_id, clash)
    assert [r.content for r in store.outbox.in_thread(thread.thread_id)] == ["first"]
    assert not store.handled_parts.is_handled(thread.session_id, P2), "P2 was never posted"
    with pytest.raises(OutboxConflict):  # the same words, but now they would notify
        store.enqueue(thread.thread_id, None, [Outgoing(part_key(P1), "first", notify=True)])
    assert store.enqueue(thread.thread_id, thread.session_id, rendered(P1, "first")) == 0
