"""`kimaki task list|delete ID|run ID`: the scheduled sends of this data dir.

Like `kimaki project`, these act through the store, with kimaki running or not: the
running kimaki looks at its tasks every second, so a deletion or a Run now applies
within a second (a Run now asked while kimaki is stopped fires at its next start).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kimaki import config
from kimaki.config import Config
from kimaki.store import Store, StoreError, TaskRecord
from kimaki.tasks.schedule import describe
from kimaki.util.instance_lock import running_pid


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    task = commands.add_parser("task", help="list, delete or run scheduled sends")
    actions = task.add_subparsers(dest="action", metavar="ACTION", required=True)
    config.add_arguments(task, only={"data_dir"})
    listing = actions.add_parser("list", help="the scheduled sends (kimaki send --send-at)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    delete = actions.add_parser("delete", help="forget a scheduled send")
    delete.add_argument("task_id", metavar="ID", type=int)
    run = actions.add_parser("run", help="run a scheduled send now (once)")
    run.add_argument("task_id", metavar="ID", type=int)


def run_task_command(args: argparse.Namespace, settings: Config) -> int:
    try:
        store = Store.open(settings.data_dir)
    except StoreError as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    try:
        if args.action == "list":
            return _list(store, as_json=args.json)
        task = store.tasks.get(args.task_id)
        if task is None:
            print(f"kimaki: no task #{args.task_id} (kimaki task list)", file=sys.stderr)
            return 1
        if args.action == "delete":
            store.tasks.remove(task.id)
            print(f"deleted task #{task.id}")
            return 0
        store.tasks.request_run(task.id)
        when = "within a second" if running_pid(settings.data_dir) else "when kimaki starts"
        print(f"task #{task.id} runs {when}")
        return 0
    finally:
        store.close()


def task_row(task: TaskRecord) -> dict[str, Any]:
    """One task as `task list --json` and `kimaki status --json` show it."""
    spec = task.spec
    return {
        "id": task.id,
        "kind": spec.kind.value,
        "schedule": spec.schedule,
        "channel_id": str(spec.channel_id),
        "directory": str(spec.directory),
        "prompt": spec.prompt,
        "name": spec.name,
        "pre_run": spec.pre_run,
        "notify_only": spec.notify_only,
        "next_run": describe(task.next_run) if task.next_run is not None else None,
        "last_run": describe(task.last_run) if task.last_run is not None else None,
        "last_outcome": task.last_outcome,
        "last_send_id": str(task.last_send_id) if task.last_send_id else None,
        "run_requested": task.run_now,
    }


def _list(store: Store, *, as_json: bool) -> int:
    tasks = store.tasks.all()
    if as_json:
        print(json.dumps([task_row(t) for t in tasks], indent=2))
        return 0
    if not tasks:
        print("no scheduled sends: kimaki send --send-at WHEN …")
    for task in tasks:
        first = task.spec.prompt.strip().splitlines()[0][:60] if task.spec.prompt.strip() else ""
        last = task.last_outcome or "—"
        print(
            f"#{task.id}  {task.spec.kind.value:4}  {task.spec.schedule!r}  next "
            f"{describe(task.next_run)}  last: {last}  channel {task.spec.channel_id}  {first}"
        )
    return 0
