"""Each table's own rules: keys, uniqueness, cascades, lookups both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki.ids import Verbosity
from kimaki.store import (
    ChannelID,
    Conflict,
    DiscordMessageID,
    GuildID,
    Origin,
    Outgoing,
    SessionCursor,
    SessionID,
    Store,
    StoreError,
    ThreadID,
    ThreadRecord,
    TrustSource,
)


def test_projects_add_get_list_by_directory_remove(store: Store, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    store.projects.add(ChannelID(1), GuildID(10), a)
    store.projects.add(ChannelID(2), GuildID(10), b)
    store.projects.add(ChannelID(3), GuildID(20), a)  # same directory, another guild
    got = store.projects.get(ChannelID(1))
    assert got is not None and (got.guild_id, got.directory) == (10, a)
    assert [p.channel_id for p in store.projects.all()] == [1, 2, 3]
    assert [p.channel_id for p in store.projects.all(GuildID(20))] == [3]
    assert [p.channel_id for p in store.projects.by_directory(a)] == [1, 3]
    assert store.projects.remove(ChannelID(1)) is True
    assert store.projects.remove(ChannelID(1)) is False
    assert store.projects.get(ChannelID(1)) is None


def test_one_channel_per_directory_per_guild(store: Store, tmp_path: Path) -> None:
    store.projects.add(ChannelID(1), GuildID(10), tmp_path / "a")
    with pytest.raises(Conflict):
        store.projects.add(ChannelID(2), GuildID(10), tmp_path / "a")


def test_project_directory_must_be_absolute(store: Store) -> None:
    with pytest.raises(ValueError, match="absolute"):
        store.projects.add(ChannelID(1), GuildID(10), Path("relative/dir"))


def test_threads_lookups_both_ways_title_and_deletion(store: Store, thread: ThreadRecord) -> None:
    assert store.threads.get(thread.thread_id) == thread
    assert store.threads.by_session(thread.session_id) == thread
    assert store.threads.by_session(SessionID("ses_other")) is None
    assert thread.origin is Origin.SYNC and thread.applied_title is None
    store.threads.set_applied_title(thread.thread_id, "Sync: fix the bug")
    renamed = store.threads.get(thread.thread_id)
    assert renamed is not None and renamed.applied_title == "Sync: fix the bug"
    assert store.threads.in_channel(thread.channel_id) == [renamed]
    assert store.threads.mark_deleted(thread.thread_id) is True
    assert store.threads.mark_deleted(thread.thread_id) is False
    assert store.threads.in_channel(thread.channel_id) == []
    gone = store.threads.by_session(thread.session_id)
    assert gone is not None and gone.deleted


def test_a_session_gets_one_thread_ever(store: Store, thread: ThreadRecord) -> None:
    store.threads.mark_deleted(thread.thread_id)
    with pytest.raises(Conflict):
        store.threads.add(
            ThreadID(9999), thread.session_id, thread.channel_id, thread.directory, Origin.DISCORD
        )


def test_a_thread_needs_a_registered_project(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.threads.add(ThreadID(1), SessionID("s"), ChannelID(404), tmp_path, Origin.SYNC)


def test_removing_a_project_cascades_to_threads_settings_and_outbox(
    store: Store, thread: ThreadRecord
) -> None:
    store.channel_settings.set_verbosity(thread.channel_id, Verbosity.TEXT_ONLY)
    store.enqueue(thread.thread_id, thread.session_id, [Outgoing("k#0", "hello")])
    assert store.projects.remove(thread.channel_id)
    assert store.threads.get(thread.thread_id) is None
    assert store.channel_settings.verbosity(thread.channel_id) is None
    assert store.outbox.in_thread(thread.thread_id) == []


def test_channel_verbosity_defaults_to_none_and_updates(store: Store, thread: ThreadRecord) -> None:
    channel = thread.channel_id
    assert store.channel_settings.verbosity(channel) is None
    store.channel_settings.set_verbosity(channel, Verbosity.TEXT_ONLY)
    store.channel_settings.set_verbosity(channel, Verbosity.TOOLS_AND_TEXT)
    assert store.channel_settings.verbosity(channel) is Verbosity.TOOLS_AND_TEXT
    store.channel_settings.clear_verbosity(channel)
    assert store.channel_settings.verbosity(channel) is None


def test_session_cursor_upserts(store: Store) -> None:
    session = SessionID("ses_c")
    assert store.session_cursors.get(session) is None
    store.session_cursors.save(SessionCursor(session, 100, "first", 1))
    store.session_cursors.save(SessionCursor(session, 200, "second", 2))
    assert store.session_cursors.get(session) == SessionCursor(session, 200, "second", 2)
    store.session_cursors.forget(session)
    assert store.session_cursors.get(session) is None


def test_outbox_rows_move_from_pending_with_the_post_carrying_them(
    store: Store, thread: ThreadRecord
) -> None:
    store.enqueue(
        thread.thread_id,
        thread.session_id,
        [Outgoing("a#0", "one"), Outgoing("b#0", "two", notify=True), Outgoing("c#0", "three")],
    )
    first, second, third = store.outbox.in_thread(thread.thread_id)
    assert [r.content for r in (first, second, third)] == ["one", "two", "three"]
    assert (first.notify, second.notify) == (False, True)
    assert store.outbox.unassigned(thread.thread_id) == [first, second, third]
    assert store.outbox.threads_with_pending() == [thread.thread_id]

    posts = store.outbox_posts
    post = posts.create(thread.thread_id, "a#0", [first.id], "one", notify=False, open_=True)
    assert posts.next_unwritten(thread.thread_id) == posts.get(post)
    posts.written(post, DiscordMessageID(77), "one")
    assert posts.next_unwritten(thread.thread_id) is None
    posts.append(post, [second.id], "one\ntwo")
    assert store.outbox.unassigned(thread.thread_id) == [store.outbox.get(third.id)]
    edit = posts.get(post)
    assert edit is not None and edit.unwritten and edit.written == "one"
    assert posts.abandon_edit(post, "404: deleted") == 1  # "two" goes to a new message
    assert posts.next_unwritten(thread.thread_id) is None
    assert [r.id for r in store.outbox.unassigned(thread.thread_id)] == [second.id, third.id]
    assert store.outbox.fail_pending(thread.thread_id, "thread gone") == 2
    assert store.outbox.pending_count() == 0
    states = [
        (r.state.value, r.discord_message_id, r.last_error)
        for r in store.outbox.in_thread(thread.thread_id)
    ]
    assert states == [
        ("sent", 77, None),
        ("failed", None, "thread gone"),
        ("failed", None, "thread gone"),
    ]


def test_trusted_guilds_keep_the_first_reason_and_can_be_forgotten(store: Store) -> None:
    assert store.trusted_guilds.all() == []
    assert store.trusted_guilds.add(GuildID(7), TrustSource.PROJECT)
    assert not store.trusted_guilds.add(GuildID(7), TrustSource.ALLOWED)
    trusted = store.trusted_guilds.get(GuildID(7))
    assert trusted is not None and trusted.source is TrustSource.PROJECT
    assert store.trusted_guilds.add(GuildID(8), TrustSource.ALLOWED)
    assert [t.guild_id for t in store.trusted_guilds.all()] == [7, 8]
    assert store.trusted_guilds.remove(GuildID(7))
    assert not store.trusted_guilds.remove(GuildID(7))
    assert store.trusted_guilds.get(GuildID(7)) is None


def test_a_bind_intent_is_dropped_when_its_thread_is_recorded(store: Store, tmp_path: Path) -> None:
    directory = tmp_path / "p"
    store.projects.add(ChannelID(20), GuildID(10), directory)
    session = SessionID("ses_intent")
    intent = store.bind_intents.add(
        session, ChannelID(20), directory, Origin.DISCORD, "hello", message_id=DiscordMessageID(7)
    )
    assert store.bind_intents.get(session) == intent
    assert intent.message_id == 7 and intent.origin is Origin.DISCORD
    record = store.bind_thread(
        ThreadID(7), session, ChannelID(20), directory, Origin.DISCORD, applied_title="hello"
    )
    assert record.thread_id == 7
    assert store.bind_intents.get(session) is None and store.bind_intents.all() == []
    store.bind_intents.add(session, ChannelID(20), directory, Origin.DISCORD, "again")
    with pytest.raises(Conflict):  # a session has one thread, ever; the intent stays
        store.bind_thread(
            ThreadID(8), session, ChannelID(20), directory, Origin.DISCORD, applied_title=None
        )
    assert store.bind_intents.get(session) is not None
    store.projects.remove(ChannelID(20))
    assert store.bind_intents.all() == [], "a forgotten project takes its intents along"


def test_threads_and_cursors_of_many_sessions_in_one_lookup(
    store: Store, thread: ThreadRecord
) -> None:
    """Sync looks a tick's sessions up together; more keys than one batch still work."""
    many = [SessionID(f"ses_{n:04d}") for n in range(1200)]
    for n, session_id in enumerate(many[::100]):
        store.session_cursors.save(SessionCursor(session_id, 1000 + n, "t", 5))
    assert store.threads.by_sessions([*many, thread.session_id]) == {thread.session_id: thread}
    assert store.threads.by_sessions([]) == {}
    cursors = store.session_cursors.get_many(many)
    assert sorted(cursors) == many[::100]
    assert cursors[many[300]].last_updated == 1003
    assert store.session_cursors.newest_updated() == 1011


def test_no_cursor_means_no_newest_updated(store: Store) -> None:
    assert store.session_cursors.newest_updated() is None
