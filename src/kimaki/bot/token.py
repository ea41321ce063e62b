"""Where the bot token comes from: KIMAKI_BOT_TOKEN, else a file the guided setup stored.

Asking for a token is the guided setup's job (`kimaki.setup`), which checks it with
Discord before storing it here. Every token handed out or stored is remembered as a
secret, so no log line shows it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kimaki.util.private_files import open_private, private_dir
from kimaki.util.redaction import remember_secret

TOKEN_FILE = "bot-token"


class TokenMissing(RuntimeError):
    """No token at hand; the message says what to do."""


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def stored_token(configured: str | None, data_dir: Path) -> str | None:
    """The token from the environment, else the stored one, else None."""
    return configured or _read(token_path(data_dir))


def load_token(configured: str | None, data_dir: Path, *, interactive: bool | None = None) -> str:
    """The token from the setting or the stored file; remembered as a secret."""
    token = stored_token(configured, data_dir)
    if token:
        remember_secret(token)
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
    """Write the token readable by its owner only (and remember it); returns where."""
    remember_secret(token)
    path = token_path(private_dir(data_dir))
    with open_private(path, "w") as file:
        file.write(token + "\n")
    return path


def _read(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text or None
