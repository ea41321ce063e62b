"""kimaki's files are private by their own modes: the data dir 0700, its files 0600."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimaki.bot.token import load_token, token_path
from kimaki.logs import PrivateRotatingFileHandler
from kimaki.opencode.kimaki_config import opencode_config_env
from kimaki.store import Store
from kimaki.util.private_files import (
    open_private,
    private_dir,
    private_file,
    tighten,
    write_private,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """A permissive umask, as many users have: modes must not depend on it, nor change it."""
    old = os.umask(0o022)
    try:
        yield
        assert os.umask(0o022) == 0o022, "kimaki changed the umask"
    finally:
        os.umask(old)


def test_a_data_dir_is_created_or_tightened_to_0700(tmp_path: Path) -> None:
    new = private_dir(tmp_path / "a" / "data")
    assert mode(new) == 0o700
    assert mode(tmp_path / "a") == 0o755  # parents keep their usual mode
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    private_dir(old)
    assert mode(old) == 0o700


def test_files_are_0600_whether_new_or_left_loose(tmp_path: Path) -> None:
    loose = tmp_path / "loose.log"
    loose.write_text("old line\n")
    loose.chmod(0o644)
    with open_private(loose, "a") as file:
        file.write("new line\n")
    assert mode(loose) == 0o600 and loose.read_text() == "old line\nnew line\n"
    with open_private(tmp_path / "new.bin", "wb") as file:
        file.write(b"x")
    assert mode(tmp_path / "new.bin") == 0o600
    marker = private_file(tmp_path / "started")
    assert mode(marker) == 0o600 and marker.read_bytes() == b""


def test_write_private_replaces_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    record = tmp_path / "opencode-server.json"
    record.write_text("{}")
    record.chmod(0o644)
    write_private(record, '{"pid": 1}')
    assert record.read_text() == '{"pid": 1}' and mode(record) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opencode-server.json"]


def test_tighten_reaches_every_file_and_directory_but_not_through_symlinks(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    for name in ("kimaki.db", "logs/kimaki.log.1", "bot-token"):
        (data / name).write_text("x")
        (data / name).chmod(0o644)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not kimaki's")
    elsewhere.chmod(0o644)
    (data / "link").symlink_to(elsewhere)
    tighten(data)
    assert mode(data) == mode(data / "logs") == 0o700
    for name in ("kimaki.db", "logs/kimaki.log.1", "bot-token"):
        assert mode(data / name) == 0o600, name
    assert mode(elsewhere) == 0o644


def test_the_store_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store.open(data)
    try:
        store.projects.all()  # a read maps the shared-memory file
        assert mode(data) == 0o700
        files = {p.name: mode(p) for p in data.iterdir()}
        assert {"kimaki.db", "kimaki.db-wal", "kimaki.db-shm"} <= files.keys()
        assert set(files.values()) == {0o600}, files
    finally:
        store.close()


def test_opencode_config_and_its_marker_are_0600(tmp_path: Path) -> None:
    opencode_config_env(tmp_path / "data")
    files = list((tmp_path / "data").iterdir())
    assert len(files) == 2 and {mode(p) for p in files} == {0o600}


def test_a_stored_token_left_loose_is_read_and_the_start_tightens_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    token_path(data).write_text("a-stored-token-of-some-length\n")
    token_path(data).chmod(0o644)
    assert load_token(None, data, interactive=False) == "a-stored-token-of-some-length"
    tighten(data)
    assert mode(token_path(data)) == 0o600


def test_rotated_logs_stay_0600(tmp_path: Path) -> None:
    handler = PrivateRotatingFileHandler(tmp_path / "kimaki.log", maxBytes=200, backupCount=2)
    logger = logging.getLogger("tests.private_files.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(20):
            logger.warning("line %d of a log that rotates quickly", n)
    finally:
        logger.removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["kimaki.log", "kimaki.log.1", "kimaki.log.2"]
    assert {mode(tmp_path / name) for name in names} == {0o600}
