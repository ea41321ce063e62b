"""OpenCode's store on disk, as sync's watch relies on it (facts in opencode/README.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer
from kimaki.opencode.store_files import matches_server, store_files


async def test_the_store_is_where_the_servers_environment_says_and_only_writes_touch_it(
    opencode_server: OpenCodeServer,
    opencode: OpenCodeClient,
    make_project: Callable[[str], Path],
) -> None:
    env = opencode_server.environment()
    files = store_files(env)
    assert files is not None
    assert files.directory == Path(env["XDG_DATA_HOME"]) / "opencode"
    assert [name for name, *_ in files.stamp()] == ["opencode.db", "opencode.db-wal"]
    paths = await opencode.paths()
    assert "data" not in paths, "GET /path does not name the data directory"
    assert matches_server(env, paths) is None

    directory = str(make_project("store"))
    session = await opencode.create_session(directory, title="store facts")

    async def read_everything() -> None:
        await opencode.all_sessions(roots=True, start=0)
        await opencode.sessions(directory, roots=True)
        await opencode.status(directory)
        await opencode.all_messages(session.id, directory)

    await read_everything()  # an instance's first request may write (its project row)
    before = files.stamp()
    await read_everything()
    assert files.stamp() == before, "reads leave the store files alone"

    renamed = await opencode.update_session(session.id, directory, title="store facts, renamed")
    assert renamed.updated == session.updated, "a rename does not bump time.updated"
    assert files.stamp() != before, "but it is a write the watch sees"
