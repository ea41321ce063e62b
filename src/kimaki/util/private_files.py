"""Files only the user running kimaki may read: the data dir 0700, everything in it 0600.

The data dir holds the bot token, the text of every mirrored message and the logs.
Modes are set explicitly on each file and directory, never through the umask: the
umask is inherited by everything kimaki starts, the agent's shell commands included,
and must stay the user's own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` if missing (parents keep their usual modes) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # O_CREAT's mode applies to new files only
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: Path | str, mode: str = "a", **kwargs: Any) -> IO[Any]:
    """`open()` for writing, with the file 0600 whether it is new or not."""
    return open(path, mode, opener=_private_opener, **kwargs)


def private_file(path: Path) -> Path:
    """Create `path` (empty) if missing and make it 0600; its content is left alone."""
    os.close(_private_opener(str(path), os.O_WRONLY | os.O_CREAT))
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Replace `path`'s content atomically (a reader sees the old or the new file), 0600."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open_private(tmp, "wb" if isinstance(data, bytes) else "w") as file:
        file.write(data)
    tmp.replace(path)


def tighten(data_dir: Path) -> None:
    """Make the data dir 0700 and everything below it private, whatever made it.

    Covers files written by an older kimaki (or copied in) with looser modes. Symlinks
    are left alone: chmod would change whatever they point at.
    """
    private_dir(data_dir)
    for top, dirs, files in os.walk(data_dir):
        for name in dirs:
            path = Path(top, name)
            if not path.is_symlink():
                os.chmod(path, DIR_MODE)
        for name in files:
            path = Path(top, name)
            if not path.is_symlink():
                os.chmod(path, FILE_MODE)
