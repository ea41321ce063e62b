"""`kimaki status` with kimaki stopped: every count read from a real store."""

from __future__ import annotations

import argparse
from pathlib import Path

from kimaki import config
from kimaki.cli_status import collect, describe
from kimaki.store import (
    ChannelID,
    GuildID,
    Origin,
    Outgoing,
    PromptKind,
    SessionID,
    Store,
    TaskKind,
    TaskSpec,
    ThreadID,
    TrustSource,
)


def test_status_of_a_stopped_kimaki_counts_what_the_store_keeps(tmp_path: Path) -> None:
    data = tmp_path / "data"
    present, missing = tmp_path / "present", tmp_path / "missing"
    present.mkdir()
    store = Store.open(data)
    try:
        store.trusted_guilds.add(GuildID(1), TrustSource.ALLOWED)
        store.projects.add(ChannelID(10), GuildID(1), present)
        store.projects.add(ChannelID(11), GuildID(1), missing)
        thread = store.threads.add(
            ThreadID(20), SessionID("ses_a"), ChannelID(10), present, Origin.DISCORD
        )
        store.threads.add(ThreadID(21), SessionID("ses_b"), ChannelID(10), present, Origin.SYNC)
        store.enqueue(thread.thread_id, None, [Outgoing("k1", "a"), Outgoing("k2", "b")])
        store.prompts.add(
            "per_1", PromptKind.PERMISSION, thread.thread_id, SessionID("ses_a"), present, "g", "x"
        )
        store.prompts.add(
            "que_1", PromptKind.QUESTION, ThreadID(21), SessionID("ses_b"), present, "h", "y"
        )
        for source in ("100", "101"):
            store.queued_prompts.add(
                thread.thread_id, thread.session_id, source, author_id=7, author_name="a", text="t"
            )
        store.tasks.add(
            TaskSpec(TaskKind.CRON, "0 9 * * *", ChannelID(10), present, "daily"), 1_900_000_000_000
        )
        settings = config.resolve(argparse.Namespace(), {"KIMAKI_DATA_DIR": str(data)})
        status = collect(store, settings)
    finally:
        store.close()

    assert status["running"] is False and status["sync"] is None and status["opencode"] is None
    assert status["guilds"] == [{"guild_id": "1", "name": None, "served": True, "why": "allowed"}]
    assert [(p["channel_id"], p["exists"]) for p in status["projects"]] == [
        ("10", True),
        ("11", False),
    ]
    assert status["threads"] == {"discord": 1, "sync": 1, "deleted": 0}
    assert status["outbox"]["pending"] == 2 and status["outbox"]["oldest_pending_seconds"] >= 0
    assert status["prompts"] == {"pending": 2, "permission": 1, "question": 1}
    assert status["queue"] | {"oldest_message_seconds": 0} == {
        "messages": 2,
        "threads": 1,
        "oldest_message_seconds": 0,
        "sends_waiting": 0,
        "sends_running": 0,
    }
    assert [(t["id"], t["schedule"]) for t in status["tasks"]] == [(1, "0 9 * * *")]
    text = describe(status)
    assert "(directory missing)" in text and "queued messages: 2 in 1 threads" in text
    assert "1 permission, 1 question" in text and "kimaki is not running" in text
