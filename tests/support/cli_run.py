"""Run a `kimaki` subcommand in-process (in a worker thread, with its own event loop).

The command parses its arguments and settings as the console script does, then runs
against the Discord twin and the store the in-process kimaki uses; only the process
start is skipped (the real console script is exercised by the process tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from discord_twin import Twin
from kimaki import cli, config


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def cli_env(twin: Twin, data_dir: Path, token: str | None = None) -> dict[str, str]:
    assert twin.seed is not None
    return {
        "KIMAKI_DATA_DIR": str(data_dir),
        "KIMAKI_DISCORD_API_URL": twin.api_url,
        "KIMAKI_DISCORD_GATEWAY_URL": twin.gateway_url,
        "KIMAKI_BOT_TOKEN": token or twin.seed.token,
    }


def _run(
    argv: Sequence[str], env: Mapping[str, str], stdin: str | None, capture: bool
) -> CliResult:
    parser = cli.build_parser()
    args = parser.parse_args(list(argv))
    settings = config.resolve(args, dict(env))
    out, err = io.StringIO(), io.StringIO()
    runners = {
        "send": "kimaki.cli_send:run_send_command",
        "task": "kimaki.cli_tasks:run_task_command",
        "status": "kimaki.cli_status:run_status_command",
    }
    module, _, name = runners[args.command].partition(":")
    run = getattr(__import__(module, fromlist=[name]), name)
    if not capture:  # several at once: redirecting the one sys.stdout would mix them up
        return CliResult(run(args, settings), "", "")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        real = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            code = run(args, settings)
        finally:
            sys.stdin = real
    return CliResult(code, out.getvalue(), err.getvalue())


async def run_cli(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    stdin: str | None = None,
    capture: bool = True,
    pool: Executor | None = None,
) -> CliResult:
    """`kimaki ARGV…` (send, task or status) with `env` as its environment; `pool` runs
    many at once (the default executor has only a few threads)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, _run, argv, env, stdin, capture)
