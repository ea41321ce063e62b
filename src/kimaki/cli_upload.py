"""`kimaki upload PATH… --session ID`: post files into the thread of a session.

Meant for the agent's own shell: kimaki's instruction in the system text of the sessions
it drives gives the whole command, session and data dir included. It needs only the data
dir: the files are queued in the store and the running bot posts them through its
outbox (no Discord token here, and none in the agent's environment). It waits a little
for the bot to post them, so the agent learns whether they arrived.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from kimaki import config
from kimaki.config import Config
from kimaki.store import OutboxState, SessionID, Store, StoreError
from kimaki.uploads import queue_upload

WAIT_SECONDS = 30.0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    upload = commands.add_parser(
        "upload",
        help="post files into the Discord thread of a session",
        description="Post files into the Discord thread of an OpenCode session (the bot "
        "must be running to post them; they wait in the store otherwise).",
    )
    upload.add_argument("paths", nargs="+", metavar="PATH", help="files to post")
    upload.add_argument("--session", required=True, help="the OpenCode session id (ses_…)")
    upload.add_argument(
        "--wait",
        type=float,
        default=WAIT_SECONDS,
        help=f"seconds to wait for the bot to post them (default {WAIT_SECONDS:g})",
    )
    config.add_arguments(upload, only={"data_dir"})


def run_upload_command(args: argparse.Namespace, settings: Config) -> int:
    try:
        store = Store.open(settings.data_dir)
    except StoreError as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    try:
        return _upload(store, settings, SessionID(args.session), args.paths, args.wait)
    finally:
        store.close()


def _upload(
    store: Store, settings: Config, session_id: SessionID, paths: list[str], wait: float
) -> int:
    record = store.threads.by_session(session_id)
    if record is None or record.deleted:
        print(f"kimaki: session {session_id} has no Discord thread", file=sys.stderr)
        return 1
    upload = queue_upload(
        store, settings.data_dir, record.thread_id, [Path(p).expanduser() for p in paths]
    )
    for refused in upload.refused:
        print(f"kimaki: not posted: {refused.line()}", file=sys.stderr)
    if upload.keys:
        outcome = _wait_for(store, upload.keys, wait)
        print(f"{outcome}: {', '.join(upload.posted)}")
        if outcome.startswith("failed"):
            return 1
    return 1 if upload.refused else 0


def _wait_for(store: Store, keys: list[str], wait: float) -> str:
    deadline = time.monotonic() + wait
    while True:
        rows = [store.outbox.by_key(k) for k in keys]
        states = {r.state for r in rows if r is not None}
        if OutboxState.FAILED in states:
            errors = {r.last_error for r in rows if r is not None and r.last_error}
            return f"failed ({'; '.join(sorted(errors)) or 'Discord refused it'})"
        if states == {OutboxState.SENT}:
            return "posted to the thread"
        if time.monotonic() > deadline:
            return "queued (kimaki posts them once it runs)"
        time.sleep(0.2)
