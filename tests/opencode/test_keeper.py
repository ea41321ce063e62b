"""The keeper: the shared server outlives a kimaki that dies, is re-attached, and stops
by itself when nobody comes back.

`detach()` is what a kill -9 does to the supervisor (the attach lock goes with the
process; nothing is signalled), without killing the test process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OrphanPolicy, RestartPolicy
from kimaki.store import ChannelID, GuildID, Store
from scripted_model import ScriptedModel, text
from tests.conftest import start_server
from tests.support.processes import alive, group_members
from tests.support.waiting import eventually
from tests.support.world import World

QUICK_ORPHAN = OrphanPolicy(after=1.0, limit=600.0, poll=0.1, busy_poll=0.3)


def record(data: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((data / "opencode-server.json").read_text())
    return loaded


async def test_a_detached_server_runs_on_and_the_next_start_re_attaches(
    world: World, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = start_server(world, data)
    endpoint = await first.start()
    pid, keeper = first.pid, record(data)["keeper"]
    assert pid is not None and isinstance(keeper, int)
    saved = record(data)
    assert saved["url"] == endpoint.base_url and saved["password"] == endpoint.password
    assert stat.S_IMODE((data / "opencode-server.json").stat().st_mode) == 0o600
    await first.detach()
    assert alive(pid) and alive(keeper)

    second = start_server(world, data)
    try:
        again = await second.start()
        assert second.reattached and second.pid == pid
        assert again == endpoint  # same port, same password
        async with OpenCodeClient(lambda: second.endpoint) as client:
            assert (await client.health()).healthy
    finally:
        await second.stop()
    assert not alive(pid) and not alive(keeper) and not group_members(pid)
    assert not (data / "opencode-server.json").exists()


async def test_a_second_start_on_a_held_data_dir_is_refused(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(world, data)
    await first.start()
    try:
        second = start_server(world, data)
        second_start = asyncio.ensure_future(second.start())
        done, _ = await asyncio.wait({second_start}, timeout=30)
        assert done, "the second start should give up"
        assert "another kimaki is running" in str(second_start.exception())
    finally:
        await first.stop()


async def test_a_server_whose_keeper_was_killed_is_restarted(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(world, data, restart=RestartPolicy(max_restarts=3, first_delay=0.1))
    await server.start()
    try:
        pid, keeper = server.pid, record(data)["keeper"]
        assert pid is not None and isinstance(keeper, int)
        os.kill(keeper, signal.SIGKILL)

        async def replaced() -> bool:
            return server.pid not in (None, pid) and server.endpoint is not None

        await eventually(replaced, timeout=60, what="a new server")
        await eventually(lambda: _gone(pid), timeout=20, what="the old server gone")
    finally:
        await server.stop()


async def _gone(pid: int) -> bool:
    return not alive(pid)


async def test_an_orphan_stops_by_itself_once_no_session_is_busy(
    world: World,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    """Busy past the orphan's time: it waits for the turn; then it stops, record and all."""
    data = tmp_path / "data"
    project = make_project()
    store = Store.open(data)
    store.projects.add(ChannelID(1), GuildID(1), project)
    store.close()
    gate = asyncio.Event()
    prompt = f"orphan-busy-{project.name}"
    scripted_model.add_rule(prompt, [text("orphan turn finished.", gate=gate)])
    server = start_server(world, data, orphan=QUICK_ORPHAN)
    await server.start()
    pid, keeper = server.pid, record(data)["keeper"]
    assert pid is not None and isinstance(keeper, int)
    try:
        async with OpenCodeClient(lambda: server.endpoint) as client:
            session = await client.create_session(str(project))
            await client.prompt_async(session.id, str(project), [TextInput(prompt)])
            await scripted_model.wait_for_request(
                lambda r: r.kind == "turn" and prompt in r.prompt, timeout=60
            )
        await server.detach()
        log_path = data / "logs" / "opencode-server.log"

        async def waits_for_the_turn() -> bool:
            return "a session is busy: waiting for it" in log_path.read_text()

        await eventually(waits_for_the_turn, timeout=30, what="the keeper seeing the busy turn")
        assert alive(pid), "a busy server must not be stopped"
        gate.set()
        await eventually(lambda: _gone(pid), timeout=60, what="the idle orphan stopping")
        await eventually(lambda: _gone(keeper), timeout=20, what="its keeper ending")
        assert not group_members(pid)
        assert not (data / "opencode-server.json").exists()
        log = log_path.read_text()
        assert "no session busy: stopping the server" in log
    finally:
        gate.set()
        await server.stop()
