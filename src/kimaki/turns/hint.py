"""The one instruction kimaki adds to the system text of the sessions it drives.

OpenCode 1.18.33 gives a bash command no session id (its environment is the server's
plus what a plugin's `shell.env` hook adds). A plugin could add it, but with any plugin
configured (even a local `file://` one) OpenCode waits, at the start of every project
directory, for its plugin package to install from npm into the user's config dir:
measured 10 s per directory offline. So the instruction itself names the session, and
the data dir when it is not the default one: the agent runs exactly the command it is
given.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from kimaki.store import SessionID


def kimaki_command() -> list[str]:
    """How the agent's shell runs this kimaki: by name if `kimaki` on PATH is this one."""
    script = Path(sys.executable).parent / "kimaki"
    found = shutil.which("kimaki")
    if found and script.exists() and Path(found).resolve() == script.resolve():
        return ["kimaki"]
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "kimaki"]


def upload_command(
    session_id: SessionID, data_dir: Path | None, command: Sequence[str] | None = None
) -> str:
    """`kimaki upload [--data-dir D] --session ID`, ready for file paths."""
    words = [*(command or kimaki_command()), "upload"]
    if data_dir is not None:
        words += ["--data-dir", str(data_dir)]
    return shlex.join([*words, "--session", session_id])


def upload_hint(upload: str) -> str:
    return (
        "The user follows this session in a Discord thread. To show them a file (an image, "
        f"a screenshot, a report), run `{upload} PATH...`: it posts the files there."
    )
