"""`kimaki status [--json]`: what kimaki keeps and does, with it running or not.

The store answers for what is kept (servers allowed here, projects, bound threads,
the outbox backlog, pending asks, messages held in kimaki's queue, sends and scheduled
tasks). Whether a kimaki runs
on this data dir is the instance lock's answer; only then is its published status
(`DATA_DIR/status.json`: servers it serves, sync, the OpenCode server) read, since a
file left by a stopped kimaki would be stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kimaki import config, runtime_status
from kimaki.cli_tasks import task_row
from kimaki.config import Config
from kimaki.store import PromptKind, SendState, Store, StoreError
from kimaki.store.db import now_ms
from kimaki.util.instance_lock import running_pid


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    status = commands.add_parser(
        "status", help="what kimaki keeps and does (works with kimaki running or not)"
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    config.add_arguments(status, only={"data_dir"})


def run_status_command(args: argparse.Namespace, settings: Config) -> int:
    try:
        store = Store.open(settings.data_dir)
    except StoreError as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    try:
        data = collect(store, settings)
    finally:
        store.close()
    print(json.dumps(data, indent=2) if args.json else describe(data))
    return 0


def collect(store: Store, settings: Config) -> dict[str, Any]:
    pid = running_pid(settings.data_dir)
    published = runtime_status.read(settings.data_dir) if pid is not None else None
    published = published if published and published.get("pid") == pid else None
    pending, oldest, failed = store.outbox.backlog()
    sends = store.sends.counts()
    return {
        "data_dir": str(settings.data_dir),
        "running": pid is not None,
        "pid": pid or None,
        "bot": published.get("bot") if published else None,
        "guilds": _guilds(store, published),
        "projects": [
            {
                "channel_id": str(p.channel_id),
                "guild_id": str(p.guild_id),
                "directory": str(p.directory),
                "exists": p.directory.is_dir(),
            }
            for p in store.projects.all()
        ],
        "sync": published.get("sync") if published else None,
        "threads": {"discord": 0, "sync": 0, "deleted": 0, **store.threads.counts()},
        "outbox": {
            "pending": pending,
            "oldest_pending_seconds": round((now_ms() - oldest) / 1000, 1) if oldest else None,
            "failed": failed,
        },
        "prompts": _asks(store),
        "queue": {
            **_held(store),
            "sends_waiting": sends.get(SendState.POSTED, 0) + sends.get(SendState.CLAIMED, 0),
            "sends_running": sends.get(SendState.PROMPTED, 0),
        },
        "sends": sends,
        "tasks": [task_row(t) for t in store.tasks.all()],
        "opencode": published.get("opencode") if published else None,
        "published_at": published.get("updated_at") if published else None,
    }


def _asks(store: Store) -> dict[str, int]:
    pending = store.prompts.pending()
    kinds = {kind.value: sum(p.kind is kind for p in pending) for kind in PromptKind}
    return {"pending": len(pending), **kinds}


def _held(store: Store) -> dict[str, Any]:
    """Messages kimaki's queue holds until their session's turn ends."""
    held = [
        row
        for t in store.queued_prompts.threads_waiting()
        for row in store.queued_prompts.waiting(t)
    ]
    oldest = min((row.created_at for row in held), default=None)
    return {
        "messages": len(held),
        "threads": len({row.thread_id for row in held}),
        "oldest_message_seconds": round((now_ms() - oldest) / 1000, 1) if oldest else None,
    }


def _guilds(store: Store, published: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The running kimaki's view (every server the bot is in), plus servers allowed here."""
    rows: dict[str, dict[str, Any]] = {}
    for guild in (published or {}).get("guilds") or []:
        rows[str(guild["guild_id"])] = dict(guild)
    for trusted in store.trusted_guilds.all():
        key = str(trusted.guild_id)
        rows.setdefault(
            key, {"guild_id": key, "name": None, "served": True, "why": trusted.source.value}
        )
    return list(rows.values())


def describe(data: dict[str, Any]) -> str:
    """The same data for a person."""
    lines = []
    if data["running"]:
        lines.append(f"kimaki is running (pid {data['pid']}) on {data['data_dir']}")
    else:
        lines.append(f"kimaki is not running on {data['data_dir']}")
    served = [g for g in data["guilds"] if g["served"]]
    names = ", ".join(f"{g['name'] or g['guild_id']} [{g['why']}]" for g in served)
    lines.append(f"servers served: {names or 'none known'}")
    lines.append(f"projects ({len(data['projects'])}):")
    for project in data["projects"]:
        state = "" if project["exists"] else "  (directory missing)"
        lines.append(f"  {project['channel_id']}  {project['directory']}{state}")
    lines.append(f"sync: {_sync_line(data['sync'], running=data['running'])}")
    threads = data["threads"]
    lines.append(
        f"threads: {threads['discord']} from Discord, {threads['sync']} synced, "
        f"{threads['deleted']} deleted"
    )
    outbox = data["outbox"]
    age = outbox["oldest_pending_seconds"]
    oldest = f", oldest {age:g}s old" if age is not None else ""
    lines.append(f"outbox: {outbox['pending']} pending{oldest}, {outbox['failed']} failed")
    asks = data["prompts"]
    lines.append(f"prompts waiting: {asks['permission']} permission, {asks['question']} question")
    queue = data["queue"]
    age = queue["oldest_message_seconds"]
    oldest = f", oldest {age:g}s old" if age is not None else ""
    lines.append(f"queued messages: {queue['messages']} in {queue['threads']} threads{oldest}")
    lines.append(
        f"sends: {queue['sends_waiting']} waiting to be taken, {queue['sends_running']} running"
    )
    lines.append(f"scheduled tasks: {len(data['tasks'])}")
    for task in data["tasks"]:
        lines.append(f"  #{task['id']}  {task['schedule']!r}  next {task['next_run'] or '—'}")
    lines.append(f"opencode: {_opencode_line(data['opencode'], running=data['running'])}")
    return "\n".join(lines)


def _sync_line(sync: dict[str, Any] | None, *, running: bool) -> str:
    if not running or sync is None:
        return "unknown (kimaki is not running)" if not running else "not reported yet"
    if not sync.get("enabled"):
        return "off"
    slowest = sync.get("slowest")
    slow = f", slowest {slowest['directory']} ({slowest['seconds']:g}s)" if slowest else ""
    return f"on every {sync['interval']:g}s, last tick {sync.get('last_tick') or '—'}{slow}"


def _opencode_line(opencode: dict[str, Any] | None, *, running: bool) -> str:
    if opencode is None:
        return "not running" if not running else "not reported yet"
    health = "healthy" if opencode.get("healthy") else f"unhealthy ({opencode.get('error')})"
    return (
        f"pid {opencode.get('pid')}, port {opencode.get('port')}, "
        f"version {opencode.get('version')}, {health}"
    )
