"""Where the session commands work: OpenCode's 120 commands cut to Discord's 100 in a fixed
order; a `Sync:` thread driven like a Discord one (its model, an OpenCode command held
behind the running turn); and every command in the wrong place answering in one line."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from kimaki.bot.commands.dynamic import GUILD_COMMAND_LIMIT
from kimaki.opencode.prompt import TextInput
from kimaki.store import ThreadID
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import StartKimaki
from tests.support.slash import slash
from tests.support.waiting import eventually
from tests.support.world import commit_all

TIMEOUT = 60
FAST_SYNC = {"KIMAKI_DISABLE_SYNC": "0", "KIMAKI_SYNC_INTERVAL": "0.5"}
GENERATED = 120
VISION = "scripted/scripted-vision"


def with_many_commands(project: Path) -> None:
    config_file = project / "opencode.json"
    config = json.loads(config_file.read_text())
    config["command"] = {
        f"gen{i:03d}": {"template": f"cmdp-gen{i:03d} says $ARGUMENTS", "description": f"gen {i}"}
        for i in range(GENERATED)
    }
    config_file.write_text(json.dumps(config))
    commit_all(project)


async def test_the_command_cap_a_sync_thread_and_every_wrong_place(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kimaki.bot.commands.dynamic")
    running = await start_kimaki(prepare=with_many_commands, **FAST_SYNC)
    twin, channel = running.twin, running.channel
    assert twin.seed is not None
    guild = twin.seed.guild

    # 100 commands: kimaki's own, the primary agents, then OpenCode's in its order.
    async def placed() -> list[str] | None:
        names = [c.name for c in twin.commands(guild)]
        return names if any(n.startswith("gen") for n in names) else None

    names = set(await eventually(placed, timeout=TIMEOUT, what="OpenCode's commands"))
    assert len(names) == GUILD_COMMAND_LIMIT
    assert {c.name for c in running.app.bot.tree.get_commands()} <= names
    assert {"build-agent", "plan-agent"} <= names
    generated = sorted(n for n in names if n.startswith("gen"))
    assert generated == [f"gen{i:03d}-cmd" for i in range(len(generated))]
    assert 0 < len(generated) < GENERATED
    assert f"/gen{GENERATED - 1:03d}-cmd" in caplog.text and "do not fit" in caplog.text

    # A session from a terminal gets its Sync thread, where the commands work as anywhere.
    scripted_model.add_rule("cmdp-terminal", [text("terminal answer")])
    directory = str(running.project)
    session = await running.app.opencode.create_session(directory, title="cmdp terminal")
    await running.app.opencode.prompt_async(session.id, directory, [TextInput("cmdp-terminal")])
    thread = await twin.wait_for_thread(
        lambda t: t.name.startswith("Sync: "), parent=channel, timeout=TIMEOUT
    )
    await twin.wait_for_message(
        lambda m: "terminal answer" in m.content, channel=thread, timeout=TIMEOUT
    )
    assert running.app.store.threads.get(ThreadID(thread.id)) is not None
    chosen = await slash(running, "model", {"model": VISION}, channel=thread)
    assert f"the model for this session is now `{VISION}`" in chosen.content

    # An OpenCode command during a running turn waits for it, then runs with that model.
    gate = asyncio.Event()
    scripted_model.add_rule("cmdp-hold", [text("held reply", gate=gate)])
    scripted_model.add_rule("cmdp-gen000", [text("generated answer")])
    twin.user(running.owner).send(thread, "cmdp-hold on")
    held = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and "cmdp-hold" in r.prompt, timeout=TIMEOUT
    )
    try:
        await asyncio.wait_for(held.paused.wait(), TIMEOUT)
        queued = await slash(running, "gen000-cmd", {"arguments": "hi"}, channel=thread)
        assert "OpenCode's /gen000 goes to this session" in queued.content
        assert not [r for r in scripted_model.requests if "cmdp-gen000" in r.prompt]
    finally:
        gate.set()
    ran = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and "cmdp-gen000 says hi" in r.prompt, timeout=TIMEOUT
    )
    assert ran.model == "scripted-vision"
    await twin.wait_for_message(
        lambda m: "generated answer" in m.content, channel=thread, timeout=TIMEOUT
    )
    assert any("held reply" in m.content for m in twin.messages(thread))

    # The wrong place: one line saying where the command works, nothing done.
    other = twin.create_channel(guild, "cmdp-not-a-project")
    in_channel = "works in a session thread, and this is the project channel"
    cases = [
        *((name, None, channel, in_channel) for name in ("undo", "redo", "compact", "fork")),
        *((name, None, channel, in_channel) for name in ("share", "context-usage")),
        ("btw", {"prompt": "x"}, channel, in_channel),
        ("new-session", {"prompt": "x"}, thread, f"works in the project channel <#{channel.id}>"),
        ("new-session", {"prompt": "x"}, other, "works in a project channel"),
        ("context-usage", None, other, "works in a session thread of a project channel"),
        ("diff", None, other, "works in a project channel or its threads"),
        ("run-shell-command", {"command": "true"}, other, "works in a project channel"),
        ("gen001-cmd", None, other, "works in a project channel"),
        ("plan-agent", {"prompt": "x"}, other, "works in a project channel"),
    ]
    threads = len(twin.threads(channel))
    for name, options, where, expected in cases:
        answer = await slash(running, name, options, channel=where)
        assert expected in answer.content, (name, where.name, answer.content)
    assert len(twin.threads(channel)) == threads
