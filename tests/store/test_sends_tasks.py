"""The sends ledger (each send taken once, its outcome recorded once) and the tasks table."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki.store import (
    ChannelID,
    DiscordMessageID,
    SendState,
    SessionID,
    Store,
    TaskKind,
    TaskSpec,
    ThreadID,
)

SEND = DiscordMessageID(500)
CHANNEL = ChannelID(2000)


def test_a_send_is_claimed_once_whoever_sees_it_first(store: Store, tmp_path: Path) -> None:
    assert store.sends.note_posted(SEND, CHANNEL) is True  # the CLI's record
    assert store.sends.note_posted(SEND, CHANNEL) is False
    assert store.sends.claim(SEND, CHANNEL) is True  # the gateway's copy
    assert store.sends.claim(SEND, CHANNEL) is False  # the sweep, the scheduler…
    assert store.sends.claim(DiscordMessageID(501), CHANNEL) is True  # no CLI record needed
    # A second connection (another process) cannot claim it either.
    other = Store.open(tmp_path)
    try:
        assert other.sends.claim(SEND, CHANNEL) is False
    finally:
        other.close()
    store.sends.prompted(SEND, ThreadID(3000), SessionID("ses_a"))
    assert store.sends.finish(SEND, SendState.ANSWERED, "done") is True
    assert store.sends.finish(SEND, SendState.FAILED, "late") is False
    record = store.sends.get(SEND)
    assert record is not None and (record.state, record.result) == (SendState.ANSWERED, "done")
    assert [r.message_id for r in store.sends.unreported()] == [SEND]
    store.sends.mark_reported(SEND)
    assert store.sends.unreported() == []
    assert store.sends.counts() == {"answered": 1, "claimed": 1}
    with pytest.raises(ValueError):
        store.sends.finish(SEND, SendState.PROMPTED, None)


def test_tasks_record_firing_around_the_post(store: Store, tmp_path: Path) -> None:
    spec = TaskSpec(
        TaskKind.CRON, "*/5 * * * *", CHANNEL, tmp_path, "tick", files=(tmp_path / "f",)
    )
    task = store.tasks.add(spec, next_run=1_000)
    assert store.tasks.get(task.id) == task and task.spec == spec
    assert store.tasks.earliest_due() == 1_000
    assert store.tasks.begin_fire(task.id, 1_000, next_run=301_000)
    firing = store.tasks.get(task.id)
    assert firing is not None and (firing.firing, firing.next_run) == (1_000, 301_000)
    store.tasks.fired(task.id, SEND, "sent")
    fired = store.tasks.get(task.id)
    assert fired is not None and (fired.firing, fired.last_send_id) == (None, SEND)
    store.tasks.fired(task.id, None, "skipped")  # a skip keeps the last send
    assert store.tasks.get(task.id).last_send_id == SEND  # type: ignore[union-attr]
    assert store.tasks.request_run(task.id) and store.tasks.get(task.id).run_now  # type: ignore[union-attr]
    assert store.tasks.remove(task.id) and store.tasks.all() == []
    assert not store.tasks.begin_fire(task.id, 1, None)
