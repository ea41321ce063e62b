"""The running kimaki process: build the parts, serve until told to stop, stop them.

`wire` (wiring.py) builds one run's parts and connects them. `Kimaki` starts them:
store → Discord login and gateway, while the OpenCode server boots (so a bad token or a
missing intent fails in about a second, not after OpenCode's boot) → once both are up, the
event stream, the event router, asks and sync → ready. The bot's `setup_hook` starts the
outbox, which needs only Discord. Stopping goes the other way. Tests run a `Kimaki`
in-process against the Discord twin and the shared OpenCode server; `run()` is what the
CLI calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import aiohttp
import discord

from kimaki.bot.endpoints import use_discord_endpoints
from kimaki.bot.invite import invite_url
from kimaki.bot.token import TokenMissing, load_token
from kimaki.config import Config
from kimaki.opencode.binary import OpenCodeNotFound, find_opencode
from kimaki.opencode.endpoint import Endpoint, EndpointSource
from kimaki.opencode.kimaki_config import opencode_config_env
from kimaki.opencode.server import OpenCodeServer, OpenCodeServerError
from kimaki.status_publisher import StatusPublisher
from kimaki.tasks.clock import Clock
from kimaki.util import background_task
from kimaki.util.private_files import private_file
from kimaki.wiring import wire

log = logging.getLogger("kimaki")

T = TypeVar("T")

Prelude = Callable[[OpenCodeServer, "asyncio.Future[Endpoint]"], Coroutine[Any, Any, str | int]]
"""Work done while OpenCode boots, before Discord (the guided setup): the bot token to
start with, or an exit code to stop with."""

RESET_TOKEN_FIX = (
    "copy a new token in the Discord Developer Portal (your application → Bot → Reset "
    "Token) and run `kimaki setup token`, or set KIMAKI_BOT_TOKEN"
)


class StartupError(RuntimeError):
    """kimaki cannot start; the message is one line saying what to do."""


class Kimaki:
    def __init__(
        self,
        config: Config,
        token: str,
        *,
        opencode: EndpointSource,
        opencode_version: str = "unknown",
        opencode_env: Mapping[str, str] | None = None,
        bot_options: dict[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`opencode_env` is the OpenCode server's environment (`OpenCodeServer.environment`):
        without it sync does not know where OpenCode's store is, and only polls."""
        self.config = config
        self.token = token
        self.opencode_version = opencode_version
        self.first_start = not (config.data_dir / "started").exists()
        self._endpoint = opencode
        self.parts = wire(config, opencode, bot_options or {}, opencode_env, clock)
        self.store = self.parts.store
        self.opencode = self.parts.opencode
        self.events = self.parts.events
        self.bot = self.parts.bot
        self.outbox = self.parts.outbox
        self.bridges = self.parts.bridges
        self.sync = self.parts.sync
        self.asks = self.parts.asks
        self.router = self.parts.router
        self.sessions = self.parts.sessions
        self.catch_up = self.parts.catch_up
        self.retention = self.parts.retention
        self.sends = self.parts.sends
        self.turns = self.parts.turns
        self._connection: asyncio.Task[None] | None = None
        self._recovering: asyncio.Task[None] | None = None
        self._publishing: asyncio.Task[None] | None = None
        self._stopped = False

    async def start(
        self, timeout: float = 60.0, *, opencode_boot: Awaitable[object] | None = None
    ) -> None:
        """Log in, connect, and return once Discord and OpenCode are both ready.

        `opencode_boot` is the OpenCode server still booting, if it is: Discord connects
        meanwhile, so a refusal from Discord ends the start at once, whatever OpenCode does.
        """
        use_discord_endpoints(self.config.discord_api_url, self.config.discord_gateway_url)
        boot = asyncio.ensure_future(opencode_boot) if opencode_boot is not None else None
        try:
            await self._login()
            self._connection = asyncio.create_task(self._connect(), name="discord")
            await self._both_up(timeout, boot)
        finally:
            if boot is not None and not boot.done():
                boot.cancel()
        self._start_opencode_parts()
        self._recovering = background_task.start(self._recover(), name="recover")
        self._announce()

    async def _recover(self) -> None:
        """Threads an interrupted bind made before a crash (needs the guild cache), then
        the messages written and the sends made while kimaki was stopped or cut off."""
        try:
            await self.bridges.recover()
        finally:
            self.sends.start_taking()
            self.catch_up.start()

    async def _login(self) -> None:
        try:
            await self.bot.login(self.token)
        except discord.LoginFailure:
            raise StartupError(
                "Discord refused the bot token (401): run `kimaki setup token` to paste a "
                "new one, or fix KIMAKI_BOT_TOKEN"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise StartupError(
                f"cannot reach Discord at {self.config.discord_api_url} ({exc}): check the "
                "network connection (or KIMAKI_DISCORD_API_URL)"
            ) from None

    async def _both_up(self, timeout: float, boot: asyncio.Future[object] | None) -> None:
        """Wait for Discord's READY and OpenCode's boot; the first failure of either wins."""
        assert self._connection is not None
        ready = asyncio.ensure_future(self.bot.connected.wait())
        waiting: set[asyncio.Future[Any]] = {ready, self._connection}
        if boot is not None:
            waiting.add(boot)
        try:
            async with asyncio.timeout(timeout):
                while ready in waiting or boot in waiting:
                    done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    for future in done:
                        future.result()  # a failure (of Discord or OpenCode) ends the start
                    if self._connection in done:
                        raise StartupError(
                            "Discord closed the connection during the start: start kimaki "
                            "again (with -v for details)"
                        )
                    waiting -= done
        except TimeoutError:
            what = "Discord" if ready in waiting else "the OpenCode server"
            raise StartupError(
                f"{what} did not become ready within {timeout:g}s: check the network "
                "connection, then start kimaki again"
            ) from None
        finally:
            ready.cancel()

    async def _connect(self) -> None:
        try:
            await self.bot.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise StartupError(
                "Discord closed the connection (4014): the bot lacks the Message Content "
                "intent. Enable it in the Discord Developer Portal (your application → Bot → "
                "Privileged Gateway Intents → Message Content Intent), then start kimaki again"
            ) from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                raise StartupError(
                    f"Discord closed the connection (4004): the bot token is no longer valid: "
                    f"{RESET_TOKEN_FIX}"
                ) from None
            raise

    def _start_opencode_parts(self) -> None:
        """Once OpenCode is up too: everything that reads from or writes to it."""
        self.events.start()
        self.router.start()
        self.asks.start()
        self.sends.start_watching()
        self.parts.catalog.start()
        if self.sync is not None:
            self.sync.start()
        self.retention.start()
        self.turns.start()
        self.parts.serving.set()
        publisher = StatusPublisher(
            self.config,
            self.bot,
            self.opencode,
            self._endpoint,
            self.sync,
            self._version,
            stream_connected=self.events.connected.is_set,
        )
        self._publishing = background_task.start(publisher.run(), name="status")

    def _version(self) -> str:
        return self.opencode_version

    def _announce(self) -> None:
        app_id = self.bot.application_id
        if app_id is not None and (self.first_start or not self.bot.guilds):
            log.info("invite kimaki to your server: %s", invite_url(app_id))
        private_file(self.config.data_dir / "started")
        projects = len(self.store.projects.all())
        sync = "off" if self.config.disable_sync else f"on every {self.config.sync_interval:g}s"
        log.info(
            "kimaki ready: %d project%s, sync %s, opencode %s",
            projects,
            "" if projects == 1 else "s",
            sync,
            self.opencode_version,
        )

    async def wait_closed(self) -> None:
        """Return when the Discord connection ends for good (raises its error, if any)."""
        if self._connection is not None:
            await self._connection

    async def stop(self) -> None:
        """Stop every part; whatever fails, Discord, OpenCode and the store are closed,
        in that order (each failure is logged with its traceback)."""
        if self._stopped:
            return
        self._stopped = True
        for task in (self._recovering, self._publishing):
            if task is not None:
                task.cancel()
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("the catch-up of missed messages", self.catch_up.stop),
            ("retention", self.retention.stop),
        ]
        if self.sync is not None:
            steps.append(("sync", self.sync.stop))
        steps += [
            ("sends", self.sends.stop),
            ("the event router", self.router.stop),
            ("the queue", self.turns.stop),
            ("asks", self.asks.stop),
            ("the command catalog", self.parts.catalog.stop),
            ("the bridges", self.bridges.close),
            ("the outbox", self.outbox.stop),
            ("the event stream", self.events.stop),
            ("Discord", self._close_discord),
            ("the OpenCode client", self.opencode.close),
        ]
        for what, step in steps:
            try:
                await step()
            except Exception:
                log.exception("stopping %s failed; stopping the rest", what)
        try:
            self.store.close()
        except Exception:
            log.exception("closing the store failed")

    async def _close_discord(self) -> None:
        await self.bot.close()
        if self._connection is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._connection, 10)


async def run(config: Config, prelude: Prelude | None = None) -> int:
    """Run until SIGTERM/SIGINT (exit 0); exit 1 with one clear line when kimaki cannot run.

    The OpenCode server boots from the start, alongside `prelude` (the guided setup) and
    the Discord login, so none of them waits for another.
    """
    try:
        token = None if prelude else load_token(config.bot_token, config.data_dir)
        binary = find_opencode(config.opencode_bin)
    except (TokenMissing, OpenCodeNotFound) as exc:
        log.error("%s", exc)
        return 1
    if config.disable_sync:
        log.info("background sync is off (--disable-sync): Discord-started sessions still work")
    stop = asyncio.Event()
    _on_signals(stop)
    server = OpenCodeServer(
        binary, data_dir=config.data_dir, extra_env=opencode_config_env(config.data_dir)
    )
    boot: asyncio.Future[Endpoint] = asyncio.ensure_future(server.start())
    crashed = False
    try:
        if prelude is not None:
            outcome = await _unless_stopped(prelude(server, boot), stop)
            if isinstance(outcome, int):
                return outcome
            token = outcome
        assert token is not None
        return await _serve(config, token, server, boot, stop)
    except _Stopped:
        log.info("stopping before kimaki was ready")
        return 0
    except Exception:
        crashed = True
        raise
    finally:
        boot.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await boot
        if crashed:
            # As after a kill -9: the agent's turn goes on, the next start re-attaches.
            log.error("kimaki crashed; the OpenCode server keeps running for the next start")
            await server.detach()
        else:
            await server.stop()


async def _serve(
    config: Config,
    token: str,
    server: OpenCodeServer,
    boot: asyncio.Future[Endpoint],
    stop: asyncio.Event,
) -> int:
    kimaki = Kimaki(
        config, token, opencode=lambda: server.endpoint, opencode_env=server.environment()
    )

    async def booted() -> None:
        await asyncio.shield(boot)
        kimaki.opencode_version = server.version or "?"

    try:
        await _unless_stopped(kimaki.start(opencode_boot=booted()), stop)
        return await _until_stopped(stop, server, kimaki)
    except (StartupError, OpenCodeServerError) as exc:
        log.error("%s", exc)
        return 1
    finally:
        await kimaki.stop()


class _Stopped(Exception):
    """SIGTERM or SIGINT arrived while kimaki was still starting."""


async def _unless_stopped(work: Coroutine[Any, Any, T], stop: asyncio.Event) -> T:
    """Await `work`, but cancel it and raise `_Stopped` as soon as a stop signal arrives.

    Starting can take minutes (a slow OpenCode boot, a Discord that never says HELLO);
    a service manager's SIGTERM or a Ctrl-C must not wait for it.
    """
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    raise _Stopped


async def _until_stopped(stop: asyncio.Event, server: OpenCodeServer, kimaki: Kimaki) -> int:
    waits = {
        asyncio.create_task(stop.wait()): "signal",
        asyncio.create_task(server.gave_up.wait()): "opencode",
        asyncio.create_task(kimaki.wait_closed()): "discord",
    }
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    reason = waits[next(iter(done))]
    if reason == "signal":
        log.info("stopping")
        return 0
    if reason == "opencode":
        log.error("stopping: the OpenCode server cannot be kept running")
        return 1
    finished = next(iter(done))
    error = finished.exception()
    if isinstance(error, StartupError):
        raise error
    log.error("stopping: the Discord connection ended (%s)", error or "closed")
    return 1


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
