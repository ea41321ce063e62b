from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kimaki.store import ChannelID, GuildID, Origin, SessionID, Store, ThreadID, ThreadRecord


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def thread(store: Store, tmp_path: Path) -> ThreadRecord:
    """A project channel with one sync thread (session `ses_a`)."""
    directory = tmp_path / "project"
    store.projects.add(ChannelID(2000), GuildID(1000), directory)
    return store.threads.add(
        ThreadID(3000), SessionID("ses_a"), ChannelID(2000), directory, Origin.SYNC
    )
