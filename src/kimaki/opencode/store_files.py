"""Where OpenCode keeps its SQLite store, given the environment its server runs with.

Every `opencode` process of a user — the shared server, a TUI, `opencode run` in
another terminal — reads and writes one SQLite database in OpenCode's data directory:
`$XDG_DATA_HOME/opencode/`, else `$HOME/.local/share/opencode/`. OpenCode 1.18.33 names
it `opencode.db` for release builds (`opencode-<channel>.db` for others) unless
`OPENCODE_DB` names another file (absolute, or relative to the data directory;
`:memory:` keeps none on disk). The database runs in WAL mode: a commit appends to
`<db>-wal`, a checkpoint writes `<db>`. So a change of those two files is a change of
the store, whoever made it; `-shm` is left out (readers touch it through `mmap`).

kimaki builds the server's environment itself (`OpenCodeServer.environment`), so it
knows these paths without asking; `GET /path` (home, state and config directories of
the running server) confirms they are the server's (`matches_server`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STORE_SUFFIXES = (".db", ".db-wal")

Stamp = tuple[tuple[str, int, int, int], ...]
"""(name, mtime in ns, size, inode) of each store file: equal stamps, no write between."""


@dataclass(frozen=True)
class StoreFiles:
    """OpenCode's store on disk: its directory, and which of the files there are the store."""

    directory: Path
    database: str | None
    """The database's file name; None when OpenCode picks it (`opencode*.db`)."""

    def is_store(self, name: str) -> bool:
        """Whether a file of `directory` named `name` is (part of) the store."""
        if self.database is not None:
            return name in (self.database, f"{self.database}-wal")
        return name.startswith("opencode") and name.endswith(STORE_SUFFIXES)

    def stamp(self) -> Stamp:
        """What the store files look like now; raises OSError when the directory is gone."""
        found = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if self.is_store(entry.name):
                    try:
                        info = entry.stat()
                    except FileNotFoundError:
                        continue  # removed while we looked (a WAL reset)
                    found.append((entry.name, info.st_mtime_ns, info.st_size, info.st_ino))
        return tuple(sorted(found))


def home_of(env: Mapping[str, str]) -> Path | None:
    home = env.get("HOME")
    return Path(home) if home else None


def xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> Path | None:
    """An XDG base directory as OpenCode resolves it (the variable, else under HOME)."""
    value = env.get(variable)
    if value:
        return Path(value)
    home = home_of(env)
    return home / fallback if home is not None else None


def store_files(env: Mapping[str, str]) -> StoreFiles | None:
    """OpenCode's store for a process with environment `env` (None: not on disk)."""
    data = xdg_dir(env, "XDG_DATA_HOME", ".local/share")
    named = env.get("OPENCODE_DB")
    if named == ":memory:":
        return None
    if named:
        path = Path(named) if Path(named).is_absolute() else (data or Path()) / "opencode" / named
        if not path.is_absolute():
            return None
        return StoreFiles(path.parent, path.name)
    return StoreFiles(data / "opencode", None) if data is not None else None


def matches_server(env: Mapping[str, str], paths: Mapping[str, str]) -> str | None:
    """Why `GET /path`'s answer shows the server runs with another environment (None: it
    does not). OpenCode's state directory and home follow the same rules as its data
    directory, so agreeing on both means the data directory is the one computed here."""
    state = xdg_dir(env, "XDG_STATE_HOME", ".local/state")
    expected = {"home": home_of(env), "state": state / "opencode" if state is not None else None}
    for key, want in expected.items():
        got = paths.get(key)
        if want is None or got is None or Path(got) != want:
            return f"the server's {key} directory is {got}, not {want}"
    return None
