"""`kimaki demo [PATH]`: try kimaki in the browser, with no Discord account.

Prints one URL (on stdout; logs go to stderr) and runs until Ctrl-C or SIGTERM, then stops
everything and exits 0. Exit 1 with one line when the demo cannot run (no OpenCode, no
model configured, …), 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki.logs import setup_logging
from kimaki.projects import ProjectError, checked_directory

if TYPE_CHECKING:
    from kimaki.demo.local import Demo

log = logging.getLogger("kimaki.demo")

DESCRIPTION = """\
Try kimaki without Discord: start a local Discord-like server and its web client, a kimaki
connected to it, and your own OpenCode (your `opencode`, configuration and models), with
PATH (default: the current directory) as a project channel. Everything listens on
127.0.0.1 only and lives in memory and a temporary directory; your kimaki data dir is not
used. Open the URL it prints, write in the project's channel, and watch the agent work.
Ctrl-C stops it all. kimaki's options go before `demo`, e.g.
`kimaki --opencode-bin ~/bin/opencode demo ~/code/my-app`."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    demo = commands.add_parser(
        "demo",
        help="try kimaki in your browser: a local Discord, no account needed",
        description=DESCRIPTION,
    )
    demo.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="the project directory (default: .)"
    )


def run_demo_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if getattr(args, "data_dir", None) is not None:
        parser.exit(2, "kimaki demo: --data-dir does not apply: the demo keeps no data\n")
    try:
        directory = checked_directory(args.path)
    except ProjectError as exc:
        parser.exit(2, f"kimaki demo: {exc}\n")
    try:
        return asyncio.run(_run(directory, args))
    except KeyboardInterrupt:
        return 130


async def _run(directory: Path, args: argparse.Namespace) -> int:
    from kimaki.demo.local import Demo, DemoError  # the twin loads only for the demo

    stop = asyncio.Event()
    _on_signals(stop)
    demo = Demo(directory, args=args)
    setup_logging(demo.data_dir / "logs", debug=args.debug)
    try:
        if not await _unless_stopped(demo.start(), stop):
            return 0
        print(banner(directory, demo.url), flush=True)
        return await _until_stopped(demo, stop)
    except DemoError as exc:
        print(f"kimaki demo: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        await demo.stop()


def banner(directory: Path, url: str) -> str:
    return (
        f"kimaki demo is running on {directory}\n"
        f"  open {url}\n"
        "  and write in the project's channel. Ctrl-C stops it."
    )


async def _unless_stopped(starting: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run the start unless a signal comes first (then cancel it); True when it finished.

    Starting OpenCode can take a while; Ctrl-C must not wait for it.
    """
    task = asyncio.ensure_future(starting)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    log.info("stopped before the demo was ready")
    return False


async def _until_stopped(demo: Demo, stop: asyncio.Event) -> int:
    """0 on a signal; 1 when OpenCode cannot be kept running or the connection ends."""
    assert demo.server is not None and demo.kimaki is not None
    waits = {
        asyncio.ensure_future(stop.wait()): "a signal",
        asyncio.ensure_future(demo.server.gave_up.wait()): "OpenCode cannot be kept running",
        asyncio.ensure_future(demo.kimaki.wait_closed()): "the connection to the twin ended",
    }
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    finished = next(iter(done))
    if waits[finished] == "a signal":
        log.info("stopping the demo")
        return 0
    error = finished.exception()
    log.error("the demo stops: %s%s", waits[finished], f" ({error})" if error else "")
    return 1


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
