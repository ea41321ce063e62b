"""Opening, migrating, refusing newer schemas, and sharing the file between processes."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kimaki.store import ChannelID, Database, GuildID, Store, StoreError
from kimaki.store.migrations import MIGRATIONS


def test_fresh_database_is_migrated_and_configured(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        assert (tmp_path / "kimaki.db").exists()
        assert store.db.schema_version == len(MIGRATIONS)
        conn = store.db.conn
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {
            "projects",
            "threads",
            "channel_settings",
            "outbox",
            "handled_parts",
            "session_cursors",
        } <= tables
    finally:
        store.close()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    first = Store.open(tmp_path)
    first.projects.add(ChannelID(1), GuildID(2), tmp_path / "p")
    first.close()
    again = Store.open(tmp_path)
    try:
        assert again.db.schema_version == len(MIGRATIONS)
        project = again.projects.get(ChannelID(1))
        assert project is not None and project.directory == tmp_path / "p"
    finally:
        again.close()


def test_a_newer_database_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    raw = sqlite3.connect(tmp_path / "kimaki.db")
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    raw.close()
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    assert str(caught.value) == (
        f"kimaki.db is at schema version {len(MIGRATIONS) + 3} but this kimaki knows only "
        f"{len(MIGRATIONS)}; upgrade kimaki"
    )


def test_migrations_run_in_order_and_a_later_one_keeps_earlier_data(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    v1 = ("CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES (1)")
    v2 = ("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'two'",)
    Database.open(path, migrations=[v1]).close()
    db = Database.open(path, migrations=[v1, v2])
    try:
        assert db.schema_version == 2
        assert [tuple(r) for r in db.all("SELECT a, b FROM t")] == [(1, "two")]
    finally:
        db.close()


def test_a_failing_migration_leaves_the_previous_version_intact(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    v1 = ("CREATE TABLE t (a INTEGER)",)
    broken = ("CREATE TABLE u (a INTEGER)", "INSERT INTO no_such_table VALUES (1)")
    Database.open(path, migrations=[v1]).close()
    with pytest.raises(sqlite3.OperationalError):
        Database.open(path, migrations=[v1, broken])
    db = Database.open(path, migrations=[v1])
    try:
        assert db.schema_version == 1
        assert db.one("SELECT name FROM sqlite_master WHERE name = 'u'") is None
    finally:
        db.close()


def test_nested_transaction_failure_undoes_only_the_inner_part(store: Store) -> None:
    with store.db.transaction():
        store.projects.add(ChannelID(1), GuildID(1), Path("/a"))
        with pytest.raises(RuntimeError), store.db.transaction():
            store.projects.add(ChannelID(2), GuildID(1), Path("/b"))
            raise RuntimeError("inner")
    assert [p.channel_id for p in store.projects.all()] == [1]


def test_two_connections_share_the_file_like_the_cli_and_the_bot(tmp_path: Path) -> None:
    bot = Store.open(tmp_path)
    cli = Store.open(tmp_path, busy_timeout_ms=50)
    try:
        # The CLI adds a project while the bot runs: the bot sees it on its next read.
        cli.projects.add(ChannelID(1), GuildID(9), tmp_path / "a")
        assert [p.channel_id for p in bot.projects.all()] == [1]

        # While the bot holds a write transaction, WAL still lets the CLI read the last
        # committed state, and a CLI write waits only `busy_timeout` before failing.
        with bot.db.transaction():
            bot.projects.add(ChannelID(2), GuildID(9), tmp_path / "b")
            assert [p.channel_id for p in cli.projects.all()] == [1]
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                cli.projects.add(ChannelID(3), GuildID(9), tmp_path / "c")
        assert [p.channel_id for p in cli.projects.all()] == [1, 2]
    finally:
        bot.close()
        cli.close()


def test_a_writer_waits_out_another_connections_transaction(tmp_path: Path) -> None:
    bot = Store.open(tmp_path)
    holding = threading.Event()
    attempting = threading.Event()
    errors: list[BaseException] = []

    def cli_process() -> None:
        cli = Store.open(tmp_path, busy_timeout_ms=10_000)
        try:
            holding.wait(5)
            attempting.set()
            cli.projects.add(ChannelID(7), GuildID(9), tmp_path / "cli")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            cli.close()

    worker = threading.Thread(target=cli_process)
    worker.start()
    try:
        with bot.db.transaction():
            bot.projects.add(ChannelID(6), GuildID(9), tmp_path / "bot")
            holding.set()
            assert attempting.wait(5)
            # Hold the lock a moment so the CLI's write is inside its busy wait
            # (with busy_timeout=0 it would fail at once); committing lets it through.
            time.sleep(0.2)
        worker.join(10)
        assert not worker.is_alive() and errors == []
        assert sorted(p.channel_id for p in bot.projects.all()) == [6, 7]
    finally:
        bot.close()
