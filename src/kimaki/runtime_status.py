"""What a running kimaki publishes about itself, for `kimaki status`: `DATA_DIR/status.json`.

The store says what kimaki keeps (projects, threads, the outbox, tasks); only the
running process knows what it is doing: which servers it serves, when sync last
looked and what was slow, the OpenCode server's pid, port, version and health. It
rewrites this small private file every few seconds (atomically), and `kimaki status`
reads it only while the data dir's instance lock says a kimaki runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kimaki.util.private_files import write_private

STATUS_FILENAME = "status.json"
PUBLISH_SECONDS = 5.0


def status_path(data_dir: Path) -> Path:
    return data_dir / STATUS_FILENAME


def publish(data_dir: Path, status: dict[str, Any]) -> None:
    write_private(status_path(data_dir), json.dumps(status, indent=2))


def read(data_dir: Path) -> dict[str, Any] | None:
    """The last status a kimaki published here (None if none, or unreadable)."""
    try:
        data = json.loads(status_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
