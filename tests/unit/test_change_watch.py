"""Where OpenCode's store is, and the watch on it: real files, a real inotify watch."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kimaki.opencode.errors import OpenCodeUnavailable
from kimaki.opencode.store_files import StoreFiles, matches_server, store_files
from kimaki.sync.watch import StoreWatch
from tests.support.waiting import eventually


def test_the_store_follows_xdg_data_home_then_home() -> None:
    assert store_files({"HOME": "/h"}) == StoreFiles(Path("/h/.local/share/opencode"), None)
    assert store_files({"HOME": "/h", "XDG_DATA_HOME": "/x"}) == StoreFiles(
        Path("/x/opencode"), None
    )
    assert store_files({}) is None


def test_opencode_db_names_the_file() -> None:
    assert store_files({"HOME": "/h", "OPENCODE_DB": "/db/one.db"}) == StoreFiles(
        Path("/db"), "one.db"
    )
    assert store_files({"XDG_DATA_HOME": "/x", "OPENCODE_DB": "mine.db"}) == StoreFiles(
        Path("/x/opencode"), "mine.db"
    )
    assert store_files({"HOME": "/h", "OPENCODE_DB": ":memory:"}) is None


def test_only_the_database_and_its_wal_are_the_store() -> None:
    any_channel = StoreFiles(Path("/x"), None)
    assert any_channel.is_store("opencode.db") and any_channel.is_store("opencode-beta.db-wal")
    assert not any_channel.is_store("opencode.db-shm")
    assert not any_channel.is_store("log")
    named = StoreFiles(Path("/x"), "mine.db")
    assert named.is_store("mine.db-wal") and not named.is_store("opencode.db")


def test_the_servers_paths_confirm_its_environment() -> None:
    env = {"HOME": "/h", "XDG_STATE_HOME": "/s"}
    assert matches_server(env, {"home": "/h", "state": "/s/opencode", "config": "/c"}) is None
    why = matches_server(env, {"home": "/h", "state": "/h/.local/state/opencode"})
    assert why is not None and "state" in why
    assert matches_server({"HOME": "/h"}, {"home": "/other", "state": "/x"}) is not None


async def server_paths_of(env: Mapping[str, str]) -> dict[str, str]:
    state = env.get("XDG_STATE_HOME") or f"{env['HOME']}/.local/state"
    return {"home": env["HOME"], "state": f"{state}/opencode"}


async def test_a_write_to_the_store_wakes_the_callback(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    store = tmp_path / ".local/share/opencode"
    store.mkdir(parents=True)
    (store / "opencode.db").write_bytes(b"db")
    woken: list[int] = []
    watch = StoreWatch(env, debounce_ms=100, quiet_ms=20)
    assert await watch.start(lambda: server_paths_of(env), lambda: woken.append(1)) is None
    try:

        async def commit_seen() -> bool:
            with (store / "opencode.db-wal").open("ab") as wal:
                wal.write(b"frame")  # again until the watch (a thread) is up and reports it
            return bool(woken)

        await eventually(commit_seen, timeout=10, interval=0.2, what="a wake-up")
        assert watch.changes == len(woken) and watch.healthy
    finally:
        await watch.stop()
    assert not watch.healthy


async def test_the_store_is_quiet_only_after_two_listings_saw_the_same_files(
    tmp_path: Path,
) -> None:
    env = {"HOME": str(tmp_path)}
    store = tmp_path / ".local/share/opencode"
    store.mkdir(parents=True)
    (store / "opencode.db").write_bytes(b"db")
    watch = StoreWatch(env)
    assert await watch.start(lambda: server_paths_of(env), lambda: None) is None
    try:
        watch.mark()
        assert not watch.quiet(), "the first listing may miss a commit under way"
        watch.mark()
        assert watch.quiet()
        (store / "opencode.db-wal").write_bytes(b"commit")
        assert not watch.quiet()
        watch.mark()
        assert not watch.quiet()
        watch.mark()
        assert watch.quiet()
    finally:
        await watch.stop()
    assert not watch.quiet(), "a stopped watch proves nothing"


async def test_a_store_that_cannot_be_watched_says_why(tmp_path: Path) -> None:
    async def unreachable() -> dict[str, str]:
        raise OpenCodeUnavailable("down")

    no_env = StoreWatch(None)
    assert "environment" in (await no_env.start(unreachable, lambda: None) or "")
    missing = StoreWatch({"HOME": str(tmp_path / "nobody")})
    assert "does not exist" in (await missing.start(unreachable, lambda: None) or "")
    env = {"HOME": str(tmp_path)}
    (tmp_path / ".local/share/opencode").mkdir(parents=True)
    elsewhere = StoreWatch(env)

    async def other_server() -> dict[str, str]:
        return {"home": "/somebody/else", "state": "/somebody/else/.local/state/opencode"}

    assert "home" in (await elsewhere.start(other_server, lambda: None) or "")
    assert not elsewhere.healthy and not elsewhere.quiet()
    unverified = StoreWatch(env)  # OpenCode cannot say: the environment kimaki gave it holds
    assert await unverified.start(unreachable, lambda: None) is None
    assert unverified.healthy
    await unverified.stop()
