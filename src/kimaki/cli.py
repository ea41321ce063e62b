"""Command line: parse flags, then run kimaki until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from kimaki import (
    __version__,
    cli_guilds,
    cli_projects,
    cli_send,
    cli_setup,
    cli_status,
    cli_tasks,
    cli_upload,
    config,
)
from kimaki.app import run
from kimaki.bot.voice import no_voice_warnings
from kimaki.demo import command as demo_command
from kimaki.logs import setup_logging
from kimaki.util.instance_lock import AlreadyRunning, InstanceLock
from kimaki.util.private_files import tighten


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (naming the flag) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kimaki",
        description="Put OpenCode coding sessions into Discord: a channel per project, "
        "a thread per session. The first run in a terminal (no token yet) walks through "
        "the setup; `kimaki setup` runs it again.",
        epilog=config.settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kimaki {__version__}")
    parser.add_argument("-v", "--debug", action="store_true", help="log debug details")
    config.add_arguments(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    cli_setup.add_parser(commands)
    cli_projects.add_parser(commands)
    cli_guilds.add_parser(commands)
    cli_send.add_parser(commands)
    cli_tasks.add_parser(commands)
    cli_status.add_parser(commands)
    cli_upload.add_parser(commands)
    demo_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":  # its own settings and data dir: ~/.kimaki stays untouched
        no_voice_warnings()
        return demo_command.run_demo_command(args, parser)
    try:
        settings = config.resolve(args)
    except config.ConfigError as exc:
        parser.exit(2, f"kimaki: error: {exc}\n")
    try:
        tighten(settings.data_dir)
    except OSError as exc:
        print(f"kimaki: cannot make the data dir private: {exc}", file=sys.stderr)
        return 1
    no_voice_warnings()
    if args.command == "setup":
        return cli_setup.run_setup_command(args, settings)
    if args.command == "project":
        return cli_projects.run_project_command(args, settings)
    if args.command == "guild":
        return cli_guilds.run_guild_command(args, settings)
    if args.command == "send":
        return cli_send.run_send_command(args, settings)
    if args.command == "task":
        return cli_tasks.run_task_command(args, settings)
    if args.command == "status":
        return cli_status.run_status_command(args, settings)
    if args.command == "upload":
        return cli_upload.run_upload_command(args, settings)
    try:
        lock = InstanceLock(settings.data_dir).acquire()
    except AlreadyRunning as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    with lock:
        setup_logging(settings.log_dir, debug=args.debug)
        try:
            return asyncio.run(run(settings, cli_setup.first_run(settings)))
        except KeyboardInterrupt:
            return 130


def entrypoint() -> NoReturn:
    """Console-script entry: exit with `main`'s status."""
    logging.captureWarnings(True)
    sys.exit(main())
