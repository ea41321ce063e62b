"""Secrets stay with kimaki: a real kimaki process, a real `env` from the agent, real files.

kimaki runs as a user runs it, with the bot token in its environment (as
KIMAKI_BOT_TOKEN and, as someone might have done, under another name too), at debug
level. The agent runs `env` through OpenCode's real bash tool from a Discord prompt.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from discord_twin import Twin
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.models import ToolPart
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import Store, ThreadID
from scripted_model import ScriptedModel, bash, text
from tests.bot.test_process import READY, TIMEOUT, open_thread, project_channel
from tests.support.kimaki_process import kimaki, kimaki_env, project_add
from tests.support.waiting import eventually
from tests.support.world import World

CANARY = "KIMAKI_TESTS_SETTING"  # any KIMAKI_* variable, not only the token, stays out
USERS_OWN = "A_VARIABLE_OF_THE_USERS"  # ... while the user's own environment stays in


def modes(data: Path) -> dict[str, int]:
    """The mode of the data dir ('.') and of everything below it."""
    found = {".": stat.S_IMODE(data.stat().st_mode)}
    for path in data.rglob("*"):
        found[str(path.relative_to(data))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(data: Path, *expected: str) -> None:
    found = modes(data)
    assert set(expected) <= found.keys(), sorted(found)
    loose = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (data / name).is_dir() else 0o600)
    }
    assert loose == {}, loose


def proc_environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def server_password(pid: int) -> str:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    entry = next(e for e in environ if e.startswith(b"OPENCODE_SERVER_PASSWORD="))
    return entry.split(b"=", 1)[1].decode()


async def test_the_agent_the_logs_and_the_files_keep_kimakis_secrets(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    assert twin.seed is not None
    token = twin.seed.token
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # an existing, loose data dir (an older kimaki's) is tightened
    env = kimaki_env(
        world,
        twin,
        extra={
            "KIMAKI_DISABLE_SYNC": "1",
            CANARY: "kimaki-only-value",
            "MY_OLD_DISCORD_TOKEN": token,
            USERS_OWN: "still-here",
        },
    )
    project = make_project()
    channel = project_channel(twin, await project_add(env, data, project))
    # The command line made the store: it is private too.
    assert_private(data, "kimaki.db")

    prompt = f"secrets-env-{project.name}"
    scripted_model.add_rule(prompt, [bash("env"), text("secrets: looked at the environment")])
    async with kimaki(env, data, "-v") as run:
        await run.wait_for_line(READY, timeout=TIMEOUT)
        thread = await open_thread(twin, channel, f"{prompt}: run env")
        await twin.wait_for_message(
            lambda m: "looked at the environment" in m.content, channel=thread, timeout=TIMEOUT
        )
        # While running: the store and its WAL files, logs, config, pid record, marker.
        assert_private(
            data,
            "kimaki.db",
            "kimaki.db-wal",
            "kimaki.db-shm",
            "logs",
            "logs/kimaki.log",
            "logs/opencode-server.log",
            "opencode-config.json",
            ".opencode-config.default",
            "opencode-server.json",
            "opencode-attach.lock",
            "started",
        )
        pid = run.server_pid()
        password = server_password(pid)
        # The keeper holding the server (it outlives kimaki) has the agent's environment too.
        keeper = json.loads((data / "opencode-server.json").read_text())["keeper"]
        keeper_env = proc_environ(keeper)
        assert token.encode() not in keeper_env and b"\0KIMAKI_" not in b"\0" + keeper_env
        assert password.encode() not in keeper_env
        base_url = re.search(r"ready at (http://\S+)", run.output)
        assert base_url is not None, run.output
        output = await bash_output(data, thread.id, project, base_url.group(1), password)
        assert await run.stop() == 0, run.output

    # What the tool returned in OpenCode: the user's environment, none of kimaki's.
    assert "PATH=" in output and f"{USERS_OWN}=still-here" in output, output
    assert token not in output
    assert not re.search(r"^KIMAKI_", output, re.MULTILINE), output
    assert "MY_OLD_DISCORD_TOKEN" not in output
    # What the model was sent back: the same output, so no token either.
    follow_up = await scripted_model.wait_for_request(
        lambda r: r.prompt.startswith(prompt) and r.selection.step_index == 1
    )
    sent = json.dumps(follow_up.body)
    assert f"{USERS_OWN}=still-here" in sent and token not in sent and CANARY not in sent
    # What the thread shows: the command ran, and nothing secret.
    transcript = twin.render(thread)
    assert "env" in transcript and token not in transcript, transcript

    # The logs of a debug-level run hold neither secret, nor the password's auth header.
    logs = {p.name: p.read_text(errors="replace") for p in (data / "logs").iterdir()}
    assert logs.keys() >= {"kimaki.log", "opencode-server.log"}
    assert " DEBUG " in logs["kimaki.log"], "the run logged at debug level"
    for name, text_ in {**logs, "stderr": run.output}.items():
        for secret in (token, password):
            assert secret not in text_, f"{name} holds a secret"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


async def bash_output(
    data: Path, thread_id: int, project: Path, base_url: str, password: str
) -> str:
    """The output of the session's bash tool call, read from OpenCode itself."""
    store = Store.open(data)
    try:
        record = store.threads.get(ThreadID(thread_id))
    finally:
        store.close()
    assert record is not None
    async with OpenCodeClient(lambda: Endpoint(base_url, password)) as client:

        async def finished() -> str | None:
            messages = await client.all_messages(record.session_id, str(project))
            for part in (p for m in messages for p in m.parts):
                if isinstance(part, ToolPart) and part.tool == "bash" and part.is_finished:
                    return part.state.output or ""
            return None

        return await eventually(finished, timeout=TIMEOUT, what="the bash tool's output")
