"""`kimaki send`: start or continue a Discord-visible session from a script, cron or CI.

The send is a Discord message the bot posts as itself (`kimaki.sends.format`), so it
needs only the bot token and, for names like `--project PATH`, the data dir's store:
it works beside a running kimaki, while kimaki is stopped (it runs at the next start),
and from another machine or a CI job (with `--channel` or `--thread` and the token in
KIMAKI_BOT_TOKEN). It is also written to the local store, so the kimaki on this data
dir finds it even if its gateway copy is missed. `--send-at` stores a scheduled send
instead (`kimaki task …`).

`--wait` reads the outcome from the local store when the kimaki running here took the
send, else from the send message on Discord (where kimaki writes the outcome and,
for a waiting send, attaches the final text as `answer.md`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord

from kimaki import config
from kimaki.bot.rest_client import rest_client
from kimaki.bot.token import TokenMissing, load_token
from kimaki.config import Config
from kimaki.projects import ProjectError, checked_directory
from kimaki.sends.format import (
    ANSWER_FILE,
    ANSWERED_MARK,
    FAILED_MARK,
    SendRequest,
    build,
    model_error,
    outcome_of,
)
from kimaki.store import (
    ChannelID,
    DiscordMessageID,
    SendState,
    SessionID,
    Store,
    StoreError,
    TaskSpec,
    ThreadID,
)
from kimaki.tasks.schedule import ScheduleError, describe, parse_when

FILES_LIMIT = 10
LOCAL_POLL = 0.25
REMOTE_POLL = 3.0
REMOTE_AFTER = 2.0
"""A send the local kimaki has not taken after this long is watched on Discord too."""
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124


class SendError(Exception):
    """A refusal with one line for stderr, and the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    send = commands.add_parser(
        "send",
        help="send a prompt to a project or a session's thread (scripts, cron, CI)",
        description="Post a prompt as the bot; the running kimaki runs it like a message "
        "written in Discord. Works while kimaki is stopped (it runs at the next start) and "
        "from other machines (with --channel or --thread and KIMAKI_BOT_TOKEN).",
    )
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--project", metavar="PATH", help="a new session in this project")
    target.add_argument("--channel", metavar="ID", help="a new session in this project channel")
    target.add_argument("--thread", metavar="ID", help="continue this session thread")
    target.add_argument("--session", metavar="ID", help="continue this OpenCode session")
    send.add_argument("--prompt", help="the prompt (default: read from standard input)")
    send.add_argument("--name", help="the new thread's name (default: the prompt's first line)")
    send.add_argument("--agent", help="the OpenCode agent for this prompt")
    send.add_argument("--model", metavar="PROVIDER/MODEL", help="the model for this prompt")
    send.add_argument(
        "--file", action="append", default=[], metavar="F", help="attach a file (repeatable)"
    )
    send.add_argument("--notify-only", action="store_true", help="post it; start no agent run")
    send.add_argument(
        "--wait", action="store_true", help="print the final answer when the turn ends"
    )
    send.add_argument("--timeout", type=float, metavar="S", help="with --wait: give up after S s")
    send.add_argument(
        "--send-at",
        metavar="WHEN",
        help="schedule it: an ISO-8601 UTC time or a 5-field cron expression (UTC)",
    )
    send.add_argument(
        "--pre-run",
        metavar="CMD",
        help="with --send-at: run CMD first; exit 0 sends, its output goes with the prompt",
    )
    config.add_arguments(send, only={"data_dir"})


@dataclass(frozen=True)
class Target:
    channel_id: ChannelID
    directory: Path | None
    """The project directory, when this data dir knows the target."""


def run_send_command(args: argparse.Namespace, settings: Config) -> int:
    try:
        prompt = _prompt(args)
        _check_options(args)
        store = Store.open(settings.data_dir)
    except SendError as exc:
        print(f"kimaki send: {exc}", file=sys.stderr)
        return exc.code
    except StoreError as exc:
        print(f"kimaki send: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        target = resolve_target(store, args)
        if args.send_at:
            return _schedule(store, args, target, prompt)
        files = _files(args.file)
        request = SendRequest(
            prompt=prompt,
            host=socket.gethostname(),
            name=args.name,
            agent=args.agent,
            model=args.model,
            notify_only=args.notify_only,
            wait=args.wait and not args.notify_only,
        )
        return asyncio.run(_send(store, settings, target, request, files, args.timeout))
    except SendError as exc:
        print(f"kimaki send: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()


def _prompt(args: argparse.Namespace) -> str:
    if args.prompt is not None:
        text = str(args.prompt)
    elif sys.stdin.isatty():
        raise SendError("give the prompt with --prompt, or on standard input", EXIT_USAGE)
    else:
        text = sys.stdin.read()
    if not text.strip():
        raise SendError("the prompt is empty", EXIT_USAGE)
    return text.strip("\n")


def _check_options(args: argparse.Namespace) -> None:
    if args.model and (why := model_error(args.model)):
        raise SendError(why, EXIT_USAGE)
    if args.timeout is not None and (not args.wait or args.timeout <= 0):
        raise SendError("--timeout takes seconds > 0 and goes with --wait", EXIT_USAGE)
    if args.pre_run and not args.send_at:
        raise SendError("--pre-run goes with --send-at", EXIT_USAGE)
    if args.send_at and args.wait:
        raise SendError("--wait does not go with --send-at (see `kimaki task list`)", EXIT_USAGE)
    if len(args.file) > FILES_LIMIT - 1:
        raise SendError(f"at most {FILES_LIMIT - 1} files per send", EXIT_USAGE)


def _snowflake(raw: str, what: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not 0 < int(text) < 2**64:
        raise SendError(f"{what} takes a Discord id (digits), got {raw!r}", EXIT_USAGE)
    return int(text)


def resolve_target(store: Store, args: argparse.Namespace) -> Target:
    """Where the send is posted: a project channel (new thread) or a session's thread."""
    if args.project:
        try:
            directory = checked_directory(args.project)
        except ProjectError as exc:
            raise SendError(str(exc)) from None
        projects = store.projects.by_directory(directory)
        if not projects:
            raise SendError(
                f"{directory} is not a project in {store.db.path.parent}: add it with "
                "`kimaki project add`, or name its channel with --channel ID"
            )
        if len(projects) > 1:
            ids = ", ".join(str(p.channel_id) for p in projects)
            raise SendError(f"{directory} has a channel in several servers; pick one: {ids}")
        return Target(projects[0].channel_id, directory)
    if args.channel:
        channel_id = ChannelID(_snowflake(args.channel, "--channel"))
        project = store.projects.get(channel_id)
        return Target(channel_id, project.directory if project else None)
    if args.thread:
        thread_id = ThreadID(_snowflake(args.thread, "--thread"))
        record = store.threads.get(thread_id)
        return Target(ChannelID(thread_id), record.directory if record else None)
    record = store.threads.by_session(SessionID(args.session.strip()))
    if record is None or record.deleted:
        raise SendError(
            f"session {args.session} has no thread here; open it in Discord with /resume "
            "first, or use --thread ID"
        )
    return Target(ChannelID(record.thread_id), record.directory)


def _files(paths: list[str]) -> list[Path]:
    files = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_file():
            raise SendError(f"--file {raw}: no such file", EXIT_USAGE)
        files.append(path.resolve())
    return files


# --- now


async def _send(
    store: Store,
    settings: Config,
    target: Target,
    request: SendRequest,
    files: list[Path],
    timeout: float | None,
) -> int:
    try:
        token = load_token(settings.bot_token, settings.data_dir, interactive=False)
    except TokenMissing as exc:
        raise SendError(str(exc)) from None
    try:
        async with rest_client(settings, token) as client:
            message = await post(client, target.channel_id, request, files)
            store.sends.note_posted(DiscordMessageID(message.id), target.channel_id)
            if not request.wait:
                print(f"sent from {request.host} to channel {target.channel_id}; its id:")
                print(message.id)
                return 0
            return await wait_for_outcome(store, message, timeout)
    except discord.LoginFailure:
        raise SendError("Discord refused the bot token (KIMAKI_BOT_TOKEN)") from None
    except (discord.HTTPException, OSError) as exc:
        raise SendError(f"Discord request failed: {_http_reason(exc)}") from None


async def post(
    client: discord.Client, channel_id: int, request: SendRequest, files: list[Path]
) -> discord.Message:
    """Post the send message (a retry after a lost answer is deduplicated by its nonce)."""
    message = build(request, [discord.File(path) for path in files])
    channel = client.get_partial_messageable(channel_id)
    try:
        return await channel.send(
            message.content,
            embed=message.embed,
            files=message.files,
            nonce=secrets.token_hex(12),
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except discord.NotFound:
        raise SendError(f"Discord knows no channel or thread {channel_id} for this bot") from None
    except discord.Forbidden:
        raise SendError(f"the bot may not post in {channel_id}") from None


def _http_reason(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        if exc.status == 413:
            return "the files are too large for one Discord message"
        return f"{exc.status} {exc.text or ''}".strip()
    return str(exc)


async def wait_for_outcome(store: Store, message: discord.Message, timeout: float | None) -> int:
    """Print the answer (exit 0), or one line on stderr (non-zero)."""
    started = time.monotonic()
    message_id = DiscordMessageID(message.id)
    last_remote = started
    while True:
        record = store.sends.get(message_id)
        if record is not None and record.state.finished:
            return _finish(record.state is SendState.ANSWERED, record.result or "")
        elapsed = time.monotonic() - started
        local_took_it = record is not None and record.state is not SendState.POSTED
        if (
            not local_took_it
            and elapsed >= REMOTE_AFTER
            and time.monotonic() - last_remote >= REMOTE_POLL
        ):
            last_remote = time.monotonic()
            remote = await _remote_outcome(message)
            if remote is not None:
                return _finish(*remote)
        if timeout is not None and elapsed >= timeout:
            print(
                f"kimaki send: no answer within {timeout:g}s (the turn may go on; its thread "
                f"is {record.thread_id if record and record.thread_id else message.id})",
                file=sys.stderr,
            )
            return EXIT_TIMEOUT
        await asyncio.sleep(LOCAL_POLL)


async def _remote_outcome(message: discord.Message) -> tuple[bool, str] | None:
    """The outcome a kimaki elsewhere wrote on the send message (None while it runs)."""
    try:
        fresh = await message.channel.fetch_message(message.id)
    except discord.HTTPException:
        return None
    outcome = outcome_of(fresh)
    if outcome is None:
        return None
    if not outcome.startswith(ANSWERED_MARK):
        return False, outcome.removeprefix(FAILED_MARK)
    answer = next((a for a in fresh.attachments if a.filename == ANSWER_FILE), None)
    text = ""
    if answer is not None:
        with contextlib.suppress(discord.HTTPException):
            text = (await answer.read()).decode(errors="replace")
    return True, text


def _finish(answered: bool, text: str) -> int:
    if answered:
        print(text)
        return 0
    print(f"kimaki send: {' '.join(text.split()) or 'the turn failed'}", file=sys.stderr)
    return EXIT_FAILED


# --- later


def _schedule(store: Store, args: argparse.Namespace, target: Target, prompt: str) -> int:
    if target.directory is None:
        raise SendError(
            "a scheduled send needs a project or thread this data dir knows: the kimaki "
            "running on it fires the task"
        )
    try:
        kind, first = parse_when(args.send_at, datetime.now(UTC))
    except ScheduleError as exc:
        raise SendError(str(exc), EXIT_USAGE) from None
    spec = TaskSpec(
        kind=kind,
        schedule=args.send_at.strip(),
        channel_id=target.channel_id,
        directory=target.directory,
        prompt=prompt,
        name=args.name,
        agent=args.agent,
        model=args.model,
        notify_only=args.notify_only,
        pre_run=args.pre_run,
        files=tuple(_files(args.file)),
    )
    task = store.tasks.add(spec, first)
    print(f"scheduled task #{task.id} ({kind.value}); first run {describe(first)} UTC")
    print(task.id)
    return 0
