"""The command catalog reads OpenCode's agents and commands only when they can have changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kimaki.bot.catalog import CommandCatalog
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import ChannelID, GuildID, Store
from tests.support.waiting import eventually


async def test_reads_at_start_on_new_projects_and_new_connections_not_while_idle(
    opencode: OpenCodeClient, make_project: Callable[[str], Path], tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "data")
    store.projects.add(ChannelID(1), GuildID(9), make_project("one"))
    connections = 1
    catalog = CommandCatalog(
        store, opencode, connections=lambda: connections, check_every=0.02, safety_every=3600
    )

    async def checked(times: int) -> bool:
        return catalog.checks >= times

    catalog.start()
    try:
        await eventually(lambda: checked(1), what="the first check")
        assert catalog.reads == 1 and [
            a.name for a in catalog.of(str(store.projects.all()[0].directory)).agents
        ] == ["build", "plan"]
        at = catalog.checks
        await eventually(lambda: checked(at + 20), what="twenty idle checks")
        assert catalog.reads == 1, "nothing changed, so nothing was read"

        store.projects.add(ChannelID(2), GuildID(9), make_project("two"))
        at = catalog.checks
        await eventually(lambda: checked(at + 2), what="checks after a new project")
        assert catalog.reads == 2

        connections = 2  # the event stream reconnected: perhaps a restarted server
        at = catalog.checks
        await eventually(lambda: checked(at + 2), what="checks after a reconnect")
        assert catalog.reads == 3
    finally:
        await catalog.stop()
        store.close()
