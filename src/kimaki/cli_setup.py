"""`kimaki setup [STEP…]`, and the guided first run of a plain `kimaki` in a terminal.

The first run happens inside `kimaki.app.run`, while the OpenCode server boots: by the
projects step OpenCode is usually up, and after the last step kimaki starts on the same
server. `kimaki setup` may run beside a running kimaki, so the OpenCode it asks for
projects is its own short-lived one (its own pid record, so neither stops the other).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any

from kimaki import config
from kimaki.app import Prelude, run
from kimaki.bot.token import stored_token
from kimaki.config import Config
from kimaki.logs import setup_logging
from kimaki.opencode.binary import OpenCodeNotFound, find_opencode
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.kimaki_config import opencode_config_env
from kimaki.opencode.server import OpenCodeServer, OpenCodeServerError
from kimaki.setup import STEP_NAMES
from kimaki.util.instance_lock import AlreadyRunning, InstanceLock

# The setup itself (kimaki.setup.flow, .ui: questionary and prompt_toolkit, ~0.5 s to
# import) is imported where it runs: a normal start never needs it.

NO_TERMINAL = (
    "kimaki: `kimaki setup` asks questions and needs a terminal; without one, set "
    "KIMAKI_BOT_TOKEN and add projects with `kimaki project add PATH`"
)


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    setup = commands.add_parser(
        "setup",
        help="guided setup: bot token, intent, invite, projects (safe to run again)",
        description="Walk through the setup, checking each step with Discord: "
        + ", ".join(STEP_NAMES)
        + ". With no STEP, all of them, then offer to start kimaki.",
    )
    setup.add_argument(
        "steps", nargs="*", metavar="STEP", help="only these steps: " + ", ".join(STEP_NAMES)
    )
    config.add_arguments(setup, only={"data_dir"})


def run_setup_command(args: argparse.Namespace, settings: Config) -> int:
    unknown = [s for s in args.steps if s not in STEP_NAMES]
    if unknown:
        print(
            f"kimaki setup: no step {unknown[0]!r}; the steps are: {', '.join(STEP_NAMES)}",
            file=sys.stderr,
        )
        return 2
    if not _on_a_terminal():
        print(NO_TERMINAL, file=sys.stderr)
        return 1
    setup_logging(settings.log_dir)
    steps = [s for s in STEP_NAMES if s in args.steps] or list(STEP_NAMES)
    try:
        outcome = asyncio.run(_setup(settings, steps, ask_start=not args.steps))
    except KeyboardInterrupt:
        return 130
    if isinstance(outcome, int):
        return outcome
    try:
        lock = InstanceLock(settings.data_dir).acquire()
    except AlreadyRunning as exc:  # the setup ran beside a running kimaki, which keeps running
        print(f"kimaki: set up; the kimaki already running (pid {exc.pid}) goes on with it")
        return 0
    with lock:
        try:
            return asyncio.run(run(settings))
        except KeyboardInterrupt:
            return 130


async def _setup(settings: Config, steps: list[str], *, ask_start: bool) -> str | int:
    from kimaki.setup.flow import guided_setup
    from kimaki.setup.ui import TerminalUI, quiet_console

    server: OpenCodeServer | None = None
    boot: asyncio.Future[Endpoint] | None = None
    failure: str | None = None
    if "projects" in steps:
        try:
            server = OpenCodeServer(
                find_opencode(settings.opencode_bin),
                data_dir=settings.data_dir / "setup-opencode",
                extra_env=opencode_config_env(settings.data_dir),
            )
            boot = asyncio.ensure_future(server.start())
        except OpenCodeNotFound as exc:
            failure = str(exc)

    async def opencode() -> Endpoint:
        if server is None or boot is None:
            raise OpenCodeServerError(failure or "not started")
        return await _endpoint(server, boot)

    try:
        with quiet_console():
            return await guided_setup(
                settings, TerminalUI(), opencode, steps, again=True, ask_start=ask_start
            )
    finally:
        if server is not None and boot is not None:
            await _stop(server, boot)


def first_run(settings: Config) -> Prelude | None:
    """The guided setup for a `kimaki` with no token, when a person is at a terminal."""
    if stored_token(settings.bot_token, settings.data_dir) or not _on_a_terminal():
        return None

    async def prelude(server: OpenCodeServer, boot: asyncio.Future[Endpoint]) -> str | int:
        from kimaki.setup.flow import guided_setup
        from kimaki.setup.ui import TerminalUI, quiet_console

        ui = TerminalUI()
        ui.say("Welcome to kimaki. A few steps connect it to Discord; then it starts.")

        async def opencode() -> Endpoint:
            return await _endpoint(server, boot)

        with quiet_console():
            outcome = await guided_setup(settings, ui, opencode)
        if isinstance(outcome, str):
            ui.say()
            ui.say("Starting kimaki…")
        return outcome

    return prelude


def _on_a_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


async def _endpoint(server: OpenCodeServer, boot: asyncio.Future[Endpoint]) -> Endpoint:
    """The booting server's endpoint; the boot itself is shared, so never cancelled here."""
    await asyncio.shield(boot)
    endpoint = server.endpoint
    if endpoint is None:
        raise OpenCodeServerError("the OpenCode server stopped")
    return endpoint


async def _stop(server: OpenCodeServer, boot: asyncio.Future[Endpoint]) -> None:
    boot.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await boot
    await server.stop()
