"""Where the bot token comes from: KIMAKI_BOT_TOKEN, else a file the guided setup stored.

Asking for a token is the guided setup's job (`kimaki.setup`), which checks it with
Discord before storing it here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TOKEN_FILE = "bot-token"


class TokenMissing(RuntimeError):
    """No token at hand; the message says what to do."""


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def stored_token(configured: str | None, data_dir: Path) -> str | None:
    """The token from the environment, else the stored one, else None."""
    return configured or _read(token_path(data_dir))


def load_token(configured: str | None, data_dir: Path, *, interactive: bool | None = None) -> str:
    token = stored_token(configured, data_dir)
    if token:
        return token
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        raise TokenMissing(
            "no Discord bot token yet: run `kimaki setup` (it asks for one and checks it), "
            "or set KIMAKI_BOT_TOKEN"
        )
    raise TokenMissing(
        "no Discord bot token: set KIMAKI_BOT_TOKEN, or run kimaki once in a terminal "
        f"to store one in {token_path(data_dir)}"
    )


def store_token(data_dir: Path, token: str) -> Path:
    """Write the token readable by its owner only; returns where."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = token_path(data_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC
    return path


def _read(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text or None
