"""`queued_prompts`: prompts held until their session is free; `outbox_files`: files of a row."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki.store import (
    Outgoing,
    OutgoingFile,
    QueueState,
    Store,
    ThreadRecord,
    synthetic_key,
)


def queue(store: Store, thread: ThreadRecord, source: str, text: str = "hi") -> int:
    row = store.queued_prompts.add(
        thread.thread_id,
        thread.session_id,
        source,
        author_id=7,
        author_name="ann",
        text=text,
        extras={"files": [], "message": [thread.thread_id, int(source)]},
    )
    assert row is not None
    return row.id


def test_a_repeated_source_is_queued_once(store: Store, thread: ThreadRecord) -> None:
    queue(store, thread, "11")
    again = store.queued_prompts.add(
        thread.thread_id, thread.session_id, "11", author_id=7, author_name="ann", text="x"
    )
    assert again is None
    (row,) = store.queued_prompts.waiting(thread.thread_id)
    assert (row.text, row.state, row.extras["message"]) == ("hi", QueueState.QUEUED, [3000, 11])


def test_edits_and_deletes_apply_only_while_queued(store: Store, thread: ThreadRecord) -> None:
    first, second = queue(store, thread, "11"), queue(store, thread, "12")
    assert store.queued_prompts.set_text("11", "edited")
    store.queued_prompts.begin_sending([second])
    assert not store.queued_prompts.set_text("12", "too late")
    assert store.queued_prompts.drop("12") is None  # sending: no longer takes a delete
    dropped = store.queued_prompts.drop("11")
    assert dropped is not None and dropped.text == "edited" and dropped.id == first
    assert [r.source for r in store.queued_prompts.waiting(thread.thread_id)] == ["12"]


def test_sending_moves_forward_or_back(store: Store, thread: ThreadRecord) -> None:
    ids = [queue(store, thread, s) for s in ("11", "12", "13")]
    store.queued_prompts.begin_sending(ids[:2])
    store.queued_prompts.back_to_queue([ids[1]])
    store.queued_prompts.mark_sent([ids[0]])
    waiting = store.queued_prompts.waiting(thread.thread_id)
    assert [(r.source, r.state) for r in waiting] == [
        ("12", QueueState.QUEUED),
        ("13", QueueState.QUEUED),
    ]
    assert store.queued_prompts.threads_waiting() == [thread.thread_id]
    store.queued_prompts.set_marked(ids[0], True)
    assert [r.id for r in store.queued_prompts.marked_sent()] == [ids[0]]
    assert store.queued_prompts.forget_sent(older_than_ms=2**62) == 0  # still marked
    store.queued_prompts.set_marked(ids[0], False)
    assert store.queued_prompts.forget_sent(older_than_ms=2**62) == 1


def test_drop_all_leaves_what_is_sending(store: Store, thread: ThreadRecord) -> None:
    ids = [queue(store, thread, s) for s in ("11", "12", "13")]
    store.queued_prompts.begin_sending([ids[0]])
    dropped = store.queued_prompts.drop_all(thread.thread_id)
    assert [r.source for r in dropped] == ["12", "13"]
    assert [r.source for r in store.queued_prompts.waiting(thread.thread_id)] == ["11"]


def test_an_outbox_row_carries_its_files_in_order(
    store: Store, thread: ThreadRecord, tmp_path: Path
) -> None:
    files = (OutgoingFile(tmp_path / "a.png", "a.png"), OutgoingFile(tmp_path / "b.txt", "b.txt"))
    key = synthetic_key("upload", "t1")
    assert store.enqueue(thread.thread_id, None, [Outgoing(key, "", files=files)]) == 1
    row = store.outbox.by_key(key)
    assert row is not None and row.content == ""
    assert store.outbox.files.of(row.id) == list(files)
    with pytest.raises(ValueError, match="no content"):
        store.enqueue(thread.thread_id, None, [Outgoing(synthetic_key("x", "y"), "")])
