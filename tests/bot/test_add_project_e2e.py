"""/add-project from Discord: only directories under the allowed root, one answer for the rest.

kimaki's home is a temporary directory here (HOME points at it), so the real home is
never looked at. kimaki's data dir lies in that home, not hidden, so refusing it is the
data-dir rule at work rather than the hidden-directory one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from discord_twin.state import Message
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.world import commit_all

TIMEOUT = 60


async def add_project(running: Running, path: str) -> Message:
    """The owner runs /add-project; kimaki's (deferred, then edited) answer."""
    handle = running.twin.user(running.owner).slash(
        "add-project", {"path": path}, channel=running.channel
    )
    return await handle.wait_message(lambda m: m.content.startswith("⬦"), timeout=TIMEOUT)


async def test_add_project_refuses_all_but_directories_under_the_home_with_one_answer(
    start_kimaki: StartKimaki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path
    monkeypatch.setenv("HOME", str(home))
    running = await start_kimaki()
    data_dir = running.app.config.data_dir
    assert data_dir.parent == home, "the data dir is a plain directory of the home"
    (home / ".ssh").mkdir()
    (home / "code" / "app").mkdir(parents=True)
    (home / "code" / "escape").symlink_to(running.project)  # exists, outside the home
    # Git repositories OpenCode knows (it lists committed git worktrees as projects).
    for known in (home / "code" / "app", running.project):
        await asyncio.to_thread(commit_all, known, init=True)
        await running.app.opencode.create_session(str(known))
    twin, guild = running.twin, running.channel.guild_id
    channels_before = {c.id for c in twin.channels()}
    projects_before = running.app.store.projects.all()

    # Autocomplete offers what OpenCode knows under the home, not this test's project.
    typed = await (
        twin.user(running.owner)
        .autocomplete("add-project", {"path": ""}, "path", channel=running.channel)
        .wait_response(timeout=TIMEOUT)
    )
    offered = [c["value"] for c in typed.choices or []]
    assert offered == [str(home / "code" / "app")], offered

    refused = {
        "/": "/",
        "the data dir": str(data_dir),
        "~/.ssh": "~/.ssh",
        "a symlink out of the root": "~/code/escape",
        "a relative path": "code/app",
        "a missing directory": "~/code/missing",
    }
    answers = {why: (await add_project(running, raw)).content for why, raw in refused.items()}
    assert len(set(answers.values())) == 1, answers
    answer = answers["/"]
    assert "only an existing directory inside `~/`" in answer, answer
    assert {c.id for c in twin.channels()} == channels_before
    assert running.app.store.projects.all() == projects_before

    added = await add_project(running, "~/code/app")
    assert f"added `{home / 'code' / 'app'}`" in added.content, added.content
    (project,) = [p for p in running.app.store.projects.all() if p not in projects_before]
    assert project.directory == home / "code" / "app" and project.guild_id == guild
    assert {c.id for c in twin.channels()} - channels_before >= {project.channel_id}
