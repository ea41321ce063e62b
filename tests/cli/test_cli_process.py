"""The console script beside a running kimaki: one instance per data dir, `kimaki status`,
and a `kimaki send` made while kimaki was stopped (it runs once, after the start)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from discord_twin import Twin
from kimaki.store import DiscordMessageID, SendState, Store
from scripted_model import ScriptedModel, text
from tests.support.kimaki_process import kimaki, kimaki_command, kimaki_env, project_add
from tests.support.waiting import eventually
from tests.support.world import World

TIMEOUT = 60
READY = "kimaki ready:"


async def test_status_a_send_while_stopped_the_second_instance_and_send_wait(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    assert twin.seed is not None
    data = tmp_path / "data"
    env = kimaki_env(world, twin)
    project = make_project()
    channel_id = await project_add(env, data, project)
    scripted_model.add_rule("proc-stopped", [text("Run after the start.")])
    scripted_model.add_rule("proc-wait", [text("The waited answer.")])

    # Stopped: status still answers, from the store.
    code, out, err = await kimaki_command(env, data, "status", "--json")
    assert code == 0, err
    stopped = json.loads(out)
    assert stopped["running"] is False and stopped["opencode"] is None
    assert stopped["projects"] == [
        {
            "channel_id": str(channel_id),
            "guild_id": str(twin.seed.guild.id),
            "directory": str(project),
            "exists": True,
        }
    ]
    assert [g["why"] for g in stopped["guilds"]] == ["project"]

    # A send made while kimaki is stopped waits for it.
    code, out, err = await kimaki_command(
        env, data, "send", "--project", str(project), "--prompt", "proc-stopped: go"
    )
    assert code == 0, err
    send_id = int(out.split()[-1])

    async with kimaki(env, data) as run:
        await run.wait_for_line(READY, timeout=TIMEOUT)
        # A second kimaki on the same data dir refuses at once, naming the first.
        code, out, err = await kimaki_command(env, data, timeout=30)
        assert code == 1 and out == "", (out, err)
        assert err.count("\n") == 1 and f"pid {run.proc.pid}" in err, err
        # …while the store-side commands keep working beside it.
        thread = await twin.wait_for_thread(
            lambda t: t.id == send_id, parent=twin.channel(channel_id), timeout=TIMEOUT
        )
        await twin.wait_for_message(
            lambda m: "Run after the start." in m.content,
            channel=thread,
            timeout=TIMEOUT,
            edits=True,
        )

        async def running_status() -> dict[str, Any] | None:
            code, out, _ = await kimaki_command(env, data, "status", "--json")
            status = json.loads(out) if code == 0 else {}
            opencode = status.get("opencode") or {}
            sync = status.get("sync") or {}
            ready = status.get("running") and opencode.get("healthy") and sync.get("last_tick")
            return status if ready else None

        status = await eventually(running_status, timeout=TIMEOUT, what="a running status")
        assert status["pid"] == run.proc.pid
        opencode = status["opencode"]
        assert isinstance(opencode, dict) and opencode["pid"] == run.server_pid()
        assert isinstance(opencode["port"], int) and opencode["version"]
        assert opencode["checked_by"] == "event stream"  # no health request while idle
        assert status["sync"] == status["sync"] | {"enabled": True, "interval": 5.0}
        assert status["sync"]["slowest"]["directory"] == str(project)
        assert [g["why"] for g in status["guilds"]] == ["owner"]
        assert status["threads"] == {"discord": 1, "sync": 0, "deleted": 0}

        code, out, err = await kimaki_command(
            env, data, "send", "--project", str(project), "--prompt", "proc-wait: q", "--wait"
        )
        assert (code, out, err) == (0, "The waited answer.\n", "")
        assert await run.stop() == 0, run.output

    store = Store.open(data)
    try:
        record = store.sends.get(DiscordMessageID(send_id))
        assert record is not None and record.state is SendState.ANSWERED
    finally:
        store.close()
    answers = [m for m in twin.messages(thread) if "Run after the start." in m.content]
    assert len(answers) == 1
