"""The supervisor around the real `opencode serve`: restart, stop, orphans, bad binaries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.events import EventStream, Resync
from kimaki.opencode.models import SessionIdle
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer, OpenCodeServerError, RestartPolicy
from kimaki.opencode.server_record import StopPolicy, reap_orphan
from kimaki.util.backoff import Backoff
from scripted_model import ScriptedModel
from tests.conftest import start_server
from tests.support.processes import alive, group_members
from tests.support.waiting import eventually
from tests.support.world import World, opencode_binary


@pytest.fixture
async def own_server(world: World, tmp_path: Path) -> AsyncIterator[OpenCodeServer]:
    """A server of this test's own, so killing it disturbs no other test."""
    server = start_server(
        world, tmp_path / "data", restart=RestartPolicy(max_restarts=3, first_delay=0.2)
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_the_port_needs_the_per_start_password(own_server: OpenCodeServer) -> None:
    endpoint = own_server.endpoint
    assert endpoint is not None and endpoint.base_url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as http:
        async with http.get(endpoint.base_url + "/global/health") as resp:
            assert resp.status == 401
        async with http.get(endpoint.base_url + "/global/health", headers=endpoint.headers) as resp:
            assert resp.status == 200


async def test_killed_server_is_restarted_and_the_client_works_again(
    own_server: OpenCodeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kimaki.opencode.server")
    first_pid = own_server.pid
    assert first_pid is not None
    async with OpenCodeClient(lambda: own_server.endpoint) as client:
        assert (await client.health()).healthy
        os.kill(first_pid, signal.SIGKILL)

        async def healthy_again() -> bool:
            if own_server.pid in (None, first_pid):
                return False
            try:
                return (await client.health()).healthy
            except OpenCodeError:
                return False

        await eventually(healthy_again, timeout=60, what="the restarted server")
    assert own_server.restarts == 1
    assert "exited with code -9; restarting" in caplog.text
    assert not alive(first_pid)


async def test_stop_leaves_no_process_of_the_group(own_server: OpenCodeServer) -> None:
    pid = own_server.pid
    assert pid is not None and group_members(pid)
    await own_server.stop()
    assert not group_members(pid)
    assert not own_server.pid_path.exists()


async def test_an_orphan_from_a_killed_kimaki_is_reaped_at_the_next_start(
    world: World, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    orphan = _spawn_unsupervised_server(world, data)
    try:
        (data / "opencode-server.json").write_text(json.dumps({"pid": orphan.pid}))
        server = start_server(world, data)
        await server.start()
        try:
            # Killed by now; the kernel may take a moment to make it a waitable zombie.
            with contextlib.suppress(subprocess.TimeoutExpired):
                orphan.wait(timeout=10)
            assert orphan.returncode is not None, "the orphan should have been stopped"
            assert server.pid != orphan.pid
        finally:
            await server.stop()
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan.wait()


def _spawn_unsupervised_server(world: World, cwd: Path) -> subprocess.Popen[bytes]:
    """What a kill -9'd kimaki leaves behind: a server nobody supervises."""
    return subprocess.Popen(
        [str(opencode_binary()), "serve", "--hostname", "127.0.0.1", "--port", "0"],
        env=world.full_env(),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_a_stale_pid_record_of_another_program_is_left_alone(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        record = tmp_path / "opencode-server.json"
        record.write_text(json.dumps({"pid": sleeper.pid}))
        assert reap_orphan(record, StopPolicy(0.1, 0.1)) is False
        assert sleeper.poll() is None
        assert not record.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


async def test_a_binary_that_exits_at_once_gives_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "opencode"
    fake.write_text("#!/bin/sh\necho 'no such command: serve' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = OpenCodeServer(fake, data_dir=tmp_path / "data", start_timeout=20)
    with pytest.raises(OpenCodeServerError, match="exited with code 3") as excinfo:
        await server.start()
    assert "opencode-server.log" in str(excinfo.value)
    assert "no such command: serve" in server.log_path.read_text()
    await server.stop()


async def test_a_server_that_keeps_dying_is_given_up_on(tmp_path: Path) -> None:
    # Comes up healthy, then dies a moment later, every time: a crash loop.
    fake = tmp_path / "opencode"
    fake.write_text(
        "#!/usr/bin/env python3\n"
        "import http.server, os, sys, threading, time\n"
        "port = int(sys.argv[sys.argv.index('--port') + 1])\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        '        body = b\'{"healthy": true, "version": "fake"}\'\n'
        "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
        "s = http.server.HTTPServer(('127.0.0.1', port), H)\n"
        "threading.Thread(target=s.serve_forever, daemon=True).start()\n"
        "print(f'opencode server listening on http://127.0.0.1:{port}', flush=True)\n"
        "time.sleep(1)\n"
        "os._exit(7)\n"
    )
    fake.chmod(0o755)
    server = OpenCodeServer(
        fake,
        data_dir=tmp_path / "data",
        restart=RestartPolicy(max_restarts=2, first_delay=0.05),
        start_timeout=20,
    )
    await server.start()
    try:
        await asyncio.wait_for(server.gave_up.wait(), 60)
        with pytest.raises(OpenCodeServerError, match="after 2 restarts; giving up"):
            await server.wait_ready(1)
    finally:
        await server.stop()


async def test_event_stream_reconnects_after_a_restart_and_says_so(
    own_server: OpenCodeServer, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    async with OpenCodeClient(lambda: own_server.endpoint) as client:
        stream = EventStream(client, backoff=Backoff(initial=0.1, maximum=0.5))
        sub = stream.subscribe()
        stream.start()
        try:
            assert await asyncio.wait_for(sub.get(), 30) == Resync("connected")
            old_pid = own_server.pid
            assert old_pid is not None
            os.kill(old_pid, signal.SIGKILL)

            async def next_resync() -> Resync:
                while True:
                    item = await sub.get()
                    if isinstance(item, Resync):
                        return item

            assert await asyncio.wait_for(next_resync(), 60) == Resync("reconnected")
            # Events flow again on the new connection.
            directory = str(make_project())
            session = await client.create_session(directory)
            await client.prompt_async(session.id, directory, [TextInput("mu-after-restart")])

            async def idle_of_session() -> None:
                async for item in sub:
                    if isinstance(item, SessionIdle) and item.session_id == session.id:
                        return

            await asyncio.wait_for(idle_of_session(), 60)
        finally:
            sub.close()
            await stream.stop()
