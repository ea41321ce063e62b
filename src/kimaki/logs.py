"""Logging to stderr for people and to a file in the data dir for later."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(log_dir: Path, *, debug: bool = False) -> None:
    level = logging.DEBUG if debug else logging.INFO
    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    root.addHandler(console)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file = logging.handlers.RotatingFileHandler(
            log_dir / "kimaki.log", maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("not logging to %s: %s", log_dir, exc)
        return
    file.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(file)
    # discord.py and aiohttp are chatty at INFO about things users do not need.
    logging.getLogger("discord").setLevel(logging.WARNING)
