"""Which `opencode` executable kimaki runs.

Order: an explicit choice (`--opencode-bin` / `KIMAKI_OPENCODE_BIN`), then `opencode`
on PATH (the user's own install, which they keep up to date), then the version pinned
in this checkout's package.json (installed by `npm ci` into node_modules).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PINNED_VERSION = "1.18.33"
REPO_ROOT = Path(__file__).resolve().parents[3]
PINNED_BINARY = REPO_ROOT / "node_modules" / ".bin" / "opencode"


class OpenCodeNotFound(RuntimeError):
    """No usable opencode executable; the message says how to get one."""


def find_opencode(explicit: str | None, *, path: str | None = None) -> Path:
    if explicit:
        return _check_explicit(explicit, path)
    on_path = shutil.which("opencode", path=path)
    if on_path:
        return Path(on_path)
    if _is_executable(PINNED_BINARY):
        return PINNED_BINARY
    raise OpenCodeNotFound(
        "no `opencode` executable found: install it with "
        f"`npm install -g opencode-ai@{PINNED_VERSION}`, or run `npm ci` in {REPO_ROOT} "
        "to get the pinned one, or pass --opencode-bin PATH"
    )


def _check_explicit(explicit: str, path: str | None) -> Path:
    candidate = Path(explicit).expanduser()
    if os.sep not in explicit:
        found = shutil.which(explicit, path=path)
        if found:
            return Path(found)
    if _is_executable(candidate):
        return candidate.resolve()
    raise OpenCodeNotFound(
        f"--opencode-bin / KIMAKI_OPENCODE_BIN: {explicit!r} is not an executable file"
    )


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
