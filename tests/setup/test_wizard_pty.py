"""The first run as a person sees it: `kimaki` with no token, in a real pseudo-terminal.

pexpect drives the `kimaki` console script (questionary on a pty, the real OpenCode
booting meanwhile) against the Discord twin. The portal switches and the invite are
done through the twin's `/_twin` HTTP API while the wizard waits, as another process
would. pexpect calls block, so they run in a thread: the twin lives on this loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pexpect
import pytest

from discord_twin import Twin
from kimaki.bot.invite import invite_url
from kimaki.bot.token import stored_token
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server_record import StopPolicy, reap_orphan
from kimaki.projects import channel_name
from kimaki.store import GuildID, Store, TrustSource
from tests.support.kimaki_process import KIMAKI, kimaki, kimaki_env
from tests.support.processes import opencode_processes_under
from tests.support.world import World, commit_all

TIMEOUT = 60
DOWN = "\x1b[B"


class Terminal:
    """A kimaki on a pty; every wait runs in a thread so the twin keeps answering."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child

    async def expect(self, pattern: str, timeout: float = TIMEOUT) -> str:
        """Wait for `pattern` (a plain string) and return everything printed up to it."""
        try:
            await asyncio.to_thread(self.child.expect_exact, pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            raise AssertionError(
                f"no {pattern!r} on the terminal ({type(exc).__name__}); it showed:\n"
                f"{_plain(self.child.before or '')}"
            ) from None
        return _plain(str(self.child.before))

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def sendline(self, line: str = "") -> None:
        self.child.sendline(line)

    async def exit_code(self, timeout: float = TIMEOUT) -> int:
        """Wait for the end; the rest of the output is kept in `self.rest`."""
        await asyncio.to_thread(self.child.expect, pexpect.EOF, timeout=timeout)
        self.rest = _plain(str(self.child.before))
        await asyncio.to_thread(self.child.wait)
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)


def _plain(text: str) -> str:
    """The terminal's text without colour and cursor escapes."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


@contextlib.asynccontextmanager
async def terminal(env: dict[str, str], data: Path, *args: str) -> AsyncIterator[Terminal]:
    # No cursor-position request: pexpect is no terminal that would answer one.
    env = {**env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        KIMAKI,
        ["--data-dir", str(data), *args],
        env=env,
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(50, 250),
        timeout=TIMEOUT,
    )
    try:
        yield Terminal(child)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
            child.wait()
        policy = StopPolicy(first_wait=2, second_wait=1)
        await asyncio.to_thread(reap_orphan, data / "opencode-server.json", policy)


class TwinHttp:
    """The twin's `/_twin` control API, as a test in another process would use it."""

    def __init__(self, twin: Twin, session: aiohttp.ClientSession) -> None:
        self.base = f"{twin.url}/_twin"
        self.session = session

    async def call(self, method: str, path: str, body: dict[str, Any]) -> Any:
        async with self.session.request(method, self.base + path, json=body) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()


@pytest.fixture
async def twin_http(twin: Twin) -> AsyncIterator[TwinHttp]:
    async with aiohttp.ClientSession() as session:
        yield TwinHttp(twin, session)


async def test_the_first_run_walks_through_every_step_and_starts(
    world: World,
    twin: Twin,
    twin_http: TwinHttp,
    opencode: OpenCodeClient,
    make_project: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    assert twin.seed is not None
    owner = twin.seed.owner
    # Two projects OpenCode knows: a session in each (newest last, so offered first).
    alpha, beta = make_project("alpha"), make_project("beta")
    for directory in (alpha, beta):
        commit_all(directory)
        await opencode.create_session(str(directory), title="from the terminal")
    # A new bot: in no server, Message Content off, public (Discord's default).
    made = await twin_http.call("POST", "/bots", {"username": "wizard-bot", "owner_id": owner.id})
    app_id, bot_id, token = int(made["application_id"]), made["bot_user_id"], made["token"]
    flags = {"message_content": False, "bot_public": True}
    await twin_http.call("PATCH", f"/applications/{app_id}", flags)

    data = tmp_path / "data"
    async with terminal(kimaki_env(world, twin, token=""), data) as term:
        # 1. token: a bad one is explained, a good one is taken.
        await term.expect("Bot token:")
        term.sendline("wrong-token")
        await term.expect("401 Unauthorized")
        await term.expect("Bot token:")
        term.sendline(token)
        await term.expect("✓ bot wizard-bot")
        # 2. intent: off; switched on in the portal while the wizard waits for Enter.
        said = await term.expect("Press Enter to check again")
        assert "Message Content intent is off" in said
        assert f"applications/{app_id}/bot → Privileged Gateway Intents" in said
        await twin_http.call("PATCH", f"/applications/{app_id}", {"message_content": True})
        term.sendline()
        await term.expect("✓ Message Content intent is on")
        # 3. public bot: said, not asked.
        said = await term.expect("Public Bot (off)")
        assert "The bot is public" in said
        # 4. invite: the link, then a spinner until the bot is in a server.
        said = await term.expect("Waiting for the bot to join a server")
        assert invite_url(app_id) in said.replace("\n", "")
        guild = await twin_http.call("POST", "/guilds", {"name": "Home", "owner_id": owner.id})
        role = await twin_http.call(
            "POST", f"/guilds/{guild['id']}/roles", {"name": "bot", "permissions": 8}
        )
        await twin_http.call(
            "POST", f"/guilds/{guild['id']}/members", {"user_id": bot_id, "role_ids": [role["id"]]}
        )
        await term.expect("✓ The bot joined Home")
        # 5. projects: beta and alpha, the two newest, picked with the keyboard.
        await term.expect("Projects to put in Home")
        said = await term.expect("another path…")
        assert said.index(beta.name) < said.index(alpha.name), said
        term.send(" ")
        term.send(DOWN)
        term.send(" ")
        term.send("\r")
        said = await term.expect("Starting kimaki")
        assert f"✓ #{channel_name(beta)} for {beta}" in said, said
        assert f"✓ #{channel_name(alpha)} for {alpha}" in said, said
        # 6. start: on the OpenCode that booted meanwhile.
        await term.expect("kimaki ready: 2 projects")
        term.child.kill(signal.SIGTERM)
        code = await term.exit_code()
    assert code == 0, term.rest
    assert "Traceback" not in term.rest
    assert not opencode_processes_under(data)

    assert stored_token(None, data) == token
    store = Store.open(data)
    try:
        trusted = store.trusted_guilds.get(GuildID(int(guild["id"])))
        assert trusted is not None and trusted.source is TrustSource.ALLOWED
        projects = {p.directory: p.guild_id for p in store.projects.all()}
    finally:
        store.close()
    assert projects == {alpha: int(guild["id"]), beta: int(guild["id"])}
    home = twin.store.guilds[int(guild["id"])]
    for directory in (alpha, beta):
        channel = twin.channel_named(channel_name(directory), home)
        assert channel is not None and channel.topic == f"kimaki project: {directory}"


async def test_ctrl_d_at_the_token_prompt_exits_with_one_short_line(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with terminal(kimaki_env(world, twin, token=""), data) as term:
        await term.expect("Bot token:")
        term.child.sendeof()
        code = await term.exit_code()
    assert code == 1, term.rest
    assert "setup stopped (Ctrl-D)" in term.rest, term.rest
    assert "Traceback" not in term.rest and "Error" not in term.rest, term.rest
    assert stored_token(None, data) is None
    assert not opencode_processes_under(data), "the OpenCode that was booting is stopped"
    assert not (data / "opencode-server.json").exists()


async def test_setup_again_checks_each_step_asks_only_what_is_open_and_may_not_start(
    world: World,
    twin: Twin,
    opencode: OpenCodeClient,
    make_project: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    """`kimaki setup` on a working install: every check passes, nothing is forced."""
    assert twin.seed is not None
    twin.update_application(twin.seed.app, bot_public=False)
    known = make_project("known")
    commit_all(known)
    await opencode.create_session(str(known), title="from the terminal")
    data = tmp_path / "data"
    async with terminal(kimaki_env(world, twin), data, "setup") as term:
        said = await term.expect("Add it to another server?")
        assert "✓ bot kimaki, token from KIMAKI_BOT_TOKEN" in said
        assert "✓ Message Content intent is on" in said
        assert "✓ The bot is private" in said
        assert "✓ The bot is in 1 server: Twin Guild" in said
        term.send("n")  # a yes/no prompt takes the key alone
        await term.expect("Projects to put in Twin Guild")
        said = await term.expect("another path…")
        assert known.name in said
        term.send("\r")  # none picked
        said = await term.expect("Start kimaki now?")
        assert "No projects picked; add them later with `kimaki project add PATH`" in said
        term.send("n")  # a yes/no prompt takes the key alone
        await term.expect("`kimaki` starts it.")
        code = await term.exit_code()
    assert code == 0, term.rest
    assert "Traceback" not in term.rest
    assert stored_token(None, data) is None  # the environment's token is not copied
    assert not opencode_processes_under(data), "the setup's own OpenCode is stopped"


async def test_ctrl_c_while_waiting_for_the_invite_exits_with_one_short_line(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    assert twin.seed is not None
    app = twin.create_bot("lonely-bot", owner=twin.seed.owner)  # in no server
    data = tmp_path / "data"
    env = kimaki_env(world, twin, token=app.token)
    async with terminal(env, data, "setup", "invite") as term:
        await term.expect("Waiting for the bot to join a server")
        term.child.sendintr()
        code = await term.exit_code()
    assert code == 130, term.rest
    assert "kimaki: setup stopped (interrupted)" in term.rest, term.rest
    assert "Traceback" not in term.rest, term.rest


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        ((), 1, "set KIMAKI_BOT_TOKEN, or run kimaki once in a terminal"),
        (("setup",), 1, "`kimaki setup` asks questions and needs a terminal"),
        (("setup", "projects"), 1, "`kimaki setup` asks questions and needs a terminal"),
        (("setup", "bogus"), 2, "no step 'bogus'; the steps are: token, intent,"),
    ],
    ids=["kimaki", "setup", "setup-projects", "setup-bogus"],
)
async def test_without_a_terminal_the_setup_is_one_line_saying_what_to_do(
    world: World, twin: Twin, tmp_path: Path, args: tuple[str, ...], code: int, needle: str
) -> None:
    async with kimaki(kimaki_env(world, twin, token=""), tmp_path / "data", *args) as run:
        assert await run.wait_exit(TIMEOUT) == code, run.output
    assert len(run.lines) == 1, run.output
    assert needle in run.lines[0], run.output
    if code == 1:
        assert "KIMAKI_BOT_TOKEN" in run.lines[0]
