"""Where the bot token comes from: KIMAKI_BOT_TOKEN, else a file kimaki stored on first run."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from kimaki.util.private_files import open_private, private_dir
from kimaki.util.redaction import remember_secret

TOKEN_FILE = "bot-token"


class TokenMissing(RuntimeError):
    """No token and no terminal to ask for one; the message says what to do."""


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def load_token(configured: str | None, data_dir: Path, *, interactive: bool | None = None) -> str:
    """The token, from the setting, the stored file or a prompt; remembered as a secret."""
    token = configured or _read(token_path(data_dir)) or _ask(data_dir, interactive)
    remember_secret(token)
    return token


def _ask(data_dir: Path, interactive: bool | None) -> str:
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if not interactive:
        raise TokenMissing(
            "no Discord bot token: set KIMAKI_BOT_TOKEN, or run kimaki once in a terminal "
            f"to store one in {token_path(data_dir)}"
        )
    return _ask_and_store(data_dir)


def _read(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text or None


def _ask_and_store(data_dir: Path) -> str:
    print(
        "kimaki needs a Discord bot token. Create an application at "
        "https://discord.com/developers/applications, add a bot, enable the "
        "MESSAGE CONTENT intent, and copy its token.",
        file=sys.stderr,
    )
    token = getpass.getpass("Bot token: ").strip()
    if not token:
        raise TokenMissing("no token entered")
    path = token_path(private_dir(data_dir))
    with open_private(path, "w") as file:
        file.write(token + "\n")
    print(f"stored in {path} (readable only by you)", file=sys.stderr)
    return token
