"""`kimaki project add|list|remove` as a user runs it: a separate process, the twin as Discord."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from discord_twin import Twin
from discord_twin.state import GUILD_CATEGORY
from kimaki.projects import channel_name, default_category
from kimaki.store import ChannelID, Store

KIMAKI = str(Path(sys.executable).parent / "kimaki")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


async def kimaki_project(
    twin: Twin, data_dir: Path, *args: str, token: str | None = None
) -> Result:
    assert twin.seed is not None
    env = {
        "KIMAKI_DATA_DIR": str(data_dir),
        "KIMAKI_BOT_TOKEN": token or twin.seed.token,
        "KIMAKI_DISCORD_API_URL": twin.api_url,
        "KIMAKI_DISCORD_GATEWAY_URL": twin.gateway_url,
        "PATH": "/usr/bin:/bin",
    }
    proc = await asyncio.create_subprocess_exec(
        KIMAKI,
        "project",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return Result(proc.returncode or 0, out.decode(), err.decode())


@pytest.mark.parametrize(
    ("basename", "expected"),
    [
        ("My Project_2", "my-project-2"),
        ("---", "project"),
        ("Über.Code", "ber-code"),
        ("a" * 150, "a" * 100),
        ("kimaki", "kimaki"),
    ],
)
def test_channel_names_follow_discords_alphabet(basename: str, expected: str) -> None:
    assert channel_name(Path("/somewhere") / basename) == expected


async def test_add_list_remove_and_refusals(twin: Twin, tmp_path: Path) -> None:
    assert twin.seed is not None
    data = tmp_path / "data"
    project = tmp_path / "Web App"
    project.mkdir()

    added = await kimaki_project(twin, data, "add", str(project))
    assert added.code == 0, added.err
    channel_id = int(added.out.strip().splitlines()[-1])
    channel = next(c for c in twin.channels() if c.id == channel_id)
    assert channel.name == "web-app"
    category = next(c for c in twin.channels() if c.id == channel.parent_id)
    assert category.type == GUILD_CATEGORY and category.name == default_category()
    assert category.name == f"Kimaki {socket.gethostname().split('.')[0]}"
    assert twin.unknown_requests() == []

    again = await kimaki_project(twin, data, "add", str(project))
    assert again.code == 1 and "already registered" in again.err
    missing = await kimaki_project(twin, data, "add", str(tmp_path / "nope"))
    assert missing.code == 1 and "does not exist" in missing.err

    other = tmp_path / "api"
    other.mkdir()
    second = await kimaki_project(twin, data, "add", str(other))
    assert second.code == 0, second.err
    categories = [c for c in twin.channels() if c.type == GUILD_CATEGORY]
    assert len(categories) == 1, "the Kimaki category is reused"

    listed = await kimaki_project(twin, data, "list", "--json")
    rows = json.loads(listed.out)
    assert [(r["channel_id"], r["directory"]) for r in rows] == [
        (str(channel_id), str(project)),
        (second.out.strip().splitlines()[-1], str(other)),
    ]

    removed = await kimaki_project(twin, data, "remove", str(project))
    assert removed.code == 0, removed.err
    unknown = await kimaki_project(twin, data, "remove", "12345")
    assert unknown.code == 1 and "no project is registered" in unknown.err
    store = Store.open(data)
    try:
        assert store.projects.get(ChannelID(channel_id)) is None
        assert [p.directory for p in store.projects.all()] == [other]
    finally:
        store.close()


async def test_a_wrong_token_is_one_clear_line(twin: Twin, tmp_path: Path) -> None:
    assert twin.seed is not None
    project = tmp_path / "p"
    project.mkdir()
    result = await kimaki_project(
        twin, tmp_path / "data", "add", str(project), token="not-the-token"
    )
    assert result.code == 1
    assert result.err.strip() == "kimaki: Discord refused the bot token (KIMAKI_BOT_TOKEN)"
