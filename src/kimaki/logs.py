"""Logging to stderr for people and to a private file in the data dir for later.

Both handlers hide every secret kimaki knows (util.redaction), so a token or password
that reaches a log call by accident (an exception's text, a library's debug line)
still never reaches the terminal or the file.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
from pathlib import Path

from kimaki.util.private_files import open_private, private_dir
from kimaki.util.redaction import RedactingFilter

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are 0600 (rotation renames them, keeping the mode)."""

    def _open(self) -> io.TextIOWrapper:
        stream = open_private(
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors
        )
        assert isinstance(stream, io.TextIOWrapper)  # text mode
        return stream


def setup_logging(log_dir: Path, *, debug: bool = False) -> None:
    level = logging.DEBUG if debug else logging.INFO
    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    console.addFilter(RedactingFilter())
    root.addHandler(console)
    try:
        private_dir(log_dir)
        file = PrivateRotatingFileHandler(
            log_dir / "kimaki.log", maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("not logging to %s: %s", log_dir, exc)
        return
    file.setFormatter(logging.Formatter(_FORMAT))
    file.addFilter(RedactingFilter())
    root.addHandler(file)
    # discord.py and aiohttp are chatty at INFO about things users do not need; watchfiles
    # logs every change of OpenCode's store it sees (sync's wake-up signal).
    logging.getLogger("discord").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
