"""The running kimaki process: start the parts, serve until told to stop, stop them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from kimaki.config import Config
from kimaki.opencode.binary import OpenCodeNotFound, find_opencode
from kimaki.opencode.client import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer, OpenCodeServerError

log = logging.getLogger("kimaki")


async def run(config: Config) -> int:
    """Run until SIGTERM/SIGINT (exit 0) or until OpenCode cannot be kept up (exit 1)."""
    try:
        binary = find_opencode(config.opencode_bin)
    except OpenCodeNotFound as exc:
        log.error("%s", exc)
        return 1
    stop = asyncio.Event()
    _on_signals(stop)
    server = OpenCodeServer(binary, data_dir=config.data_dir)
    try:
        try:
            await server.start()
        except OpenCodeServerError as exc:
            log.error("%s", exc)
            return 1
        async with OpenCodeClient(lambda: server.endpoint) as client:
            health = await client.health()
            log.info(
                "kimaki ready: opencode %s (%s); data dir %s",
                health.version,
                binary,
                config.data_dir,
            )
            return await _serve_until_stopped(stop, server)
    finally:
        await server.stop()


async def _serve_until_stopped(stop: asyncio.Event, server: OpenCodeServer) -> int:
    stopped = asyncio.create_task(stop.wait())
    gave_up = asyncio.create_task(server.gave_up.wait())
    done, pending = await asyncio.wait({stopped, gave_up}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if stopped in done:
        log.info("stopping")
        return 0
    log.error("kimaki: stopping because the OpenCode server cannot be kept running")
    return 1


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
