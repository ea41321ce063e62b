"""kimaki as a user runs it: the `kimaki` console script against the Discord twin.

Each test starts the real process (which boots the real shared OpenCode server in an
isolated world, talking to the scripted model) and judges it only by what a user or a
service manager sees: its log lines, its exit code, the processes it leaves, and the
Discord transcript the twin records.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from discord_twin import Twin
from discord_twin.state import Channel, Message
from kimaki.bot.invite import invite_url
from kimaki.opencode.binary import PINNED_BINARY, PINNED_VERSION
from kimaki.render import NOTICE_PREFIX
from kimaki.store import OutboxRow, OutboxState, Store, ThreadID
from scripted_model import ScriptedModel, bash, text
from tests.support.kimaki_process import KimakiProcess, kimaki, kimaki_env, project_add
from tests.support.processes import alive, group_members, opencode_processes_under
from tests.support.waiting import eventually
from tests.support.world import World, opencode_binary

TIMEOUT = 60
READY = "kimaki ready:"
_SERVER_STARTING = re.compile(r"opencode server starting \(pid (\d+),")


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def server_pids(run: KimakiProcess) -> list[int]:
    """Every `opencode serve` this kimaki started, from its own log lines."""
    return [int(m.group(1)) for line in run.lines if (m := _SERVER_STARTING.search(line))]


def assert_nothing_left(run: KimakiProcess) -> None:
    """No OpenCode server (nor anything in its process group) outlives kimaki."""
    for pid in server_pids(run):
        assert not alive(pid), f"opencode server {pid} outlived kimaki:\n{run.output}"
        assert not group_members(pid), f"processes of opencode {pid} outlived kimaki"
    assert not opencode_processes_under(run.data_dir)
    assert not (run.data_dir / "opencode-server.json").exists()


def assert_one_clear_error(run: KimakiProcess, *needles: str) -> str:
    """Exactly one ERROR line, naming what to do, and no traceback anywhere."""
    assert "Traceback" not in run.output, run.output
    errors = [line for line in run.lines if " ERROR " in line]
    assert len(errors) == 1, run.output
    (line,) = errors
    for needle in needles:
        assert needle.lower() in line.lower(), run.output
    return line


def bot_messages(twin: Twin, thread: Channel) -> list[Message]:
    assert twin.seed is not None
    return [m for m in twin.messages(thread) if m.author_id == twin.seed.bot.id]


async def open_thread(twin: Twin, channel: Channel, prompt: str) -> Channel:
    """The owner writes in the project channel; kimaki answers with a thread."""
    assert twin.seed is not None
    since = twin.cursor()
    twin.user(twin.seed.owner).send(channel, prompt)
    return await twin.wait_for_thread(parent=channel, since=since, timeout=TIMEOUT)


def project_channel(twin: Twin, channel_id: int) -> Channel:
    return next(c for c in twin.channels() if c.id == channel_id)


# --- 1. start, ready, invite, clean stop


async def test_ready_line_invite_on_first_start_only_and_sigterm_leaves_nothing(
    world: World, twin: Twin, make_project: Callable[[], Path], tmp_path: Path
) -> None:
    assert twin.seed is not None
    data = tmp_path / "data"
    env = kimaki_env(world, twin)
    await project_add(env, data, make_project())
    invite = invite_url(twin.seed.app.id)

    async with kimaki(env, data) as first:
        ready = await first.wait_for_line(READY, timeout=TIMEOUT)
        assert "1 project, sync on every 5s, opencode " in ready, ready
        version = ready.rsplit("opencode ", 1)[1].strip()
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), ready
        if opencode_binary() == PINNED_BINARY:
            assert version == PINNED_VERSION
        assert any(f"invite kimaki to your server: {invite}" in line for line in first.lines)
        assert alive(first.server_pid())
        assert await first.stop() == 0, first.output
    assert_nothing_left(first)
    assert first.error_lines() == [], first.output

    # Same data dir, the bot already in the twin's guild: no invite this time.
    async with kimaki(env, data, "--disable-sync") as second:
        ready = await second.wait_for_line(READY, timeout=TIMEOUT)
        assert "1 project, sync off, opencode " in ready, ready
        # The invite would come before the ready line, so its absence is final here.
        assert "invite kimaki" not in second.output, second.output
        assert await second.stop() == 0, second.output
    assert_nothing_left(second)


@pytest.mark.parametrize(
    "stage", ["opencode server starting", "ready at"], ids=["opencode-booting", "discord-hanging"]
)
async def test_sigterm_while_still_starting_stops_at_once(
    world: World, twin: Twin, tmp_path: Path, stage: str
) -> None:
    """A service manager's SIGTERM must not wait for a start that may never finish."""
    twin.gateway.close_connections(hold=True)  # the gateway never says HELLO
    try:
        async with kimaki(kimaki_env(world, twin), tmp_path / "data") as run:
            await run.wait_for_line(stage, timeout=TIMEOUT)
            assert READY not in run.output
            code = await run.stop(timeout=20)
    finally:
        twin.gateway.release()
    assert code == 0, run.output
    assert "Traceback" not in run.output, run.output
    assert_nothing_left(run)


# --- 2. refusals: one clear line, non-zero exit, nothing left running


async def test_a_wrong_token_is_one_clear_line(world: World, twin: Twin, tmp_path: Path) -> None:
    env = kimaki_env(world, twin, token="not-the-bot-token")
    async with kimaki(env, tmp_path / "data") as run:
        code = await run.wait_exit(TIMEOUT)
    assert code != 0
    assert_one_clear_error(run, "refused the bot token", "KIMAKI_BOT_TOKEN")
    assert_nothing_left(run)


async def test_no_token_and_no_terminal_says_to_set_kimaki_bot_token(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    env = kimaki_env(world, twin, token="")
    assert "KIMAKI_BOT_TOKEN" not in env
    async with kimaki(env, tmp_path / "data") as run:
        code = await run.wait_exit(TIMEOUT)
    assert code != 0
    assert_one_clear_error(run, "set KIMAKI_BOT_TOKEN")
    assert server_pids(run) == [], "no token: OpenCode should not even be started"
    assert_nothing_left(run)


async def test_unreachable_discord_is_one_clear_line_and_stops_opencode(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    api_url = f"http://127.0.0.1:{closed_loopback_port()}/api/v10"
    env = kimaki_env(world, twin, api_url=api_url)
    async with kimaki(env, tmp_path / "data") as run:
        code = await run.wait_exit(TIMEOUT)
    assert code != 0
    assert_one_clear_error(run, "cannot reach Discord", api_url)
    assert_nothing_left(run)


# --- 3. the privileged intent


async def test_missing_message_content_intent_says_where_to_enable_it(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    assert twin.seed is not None
    twin.seed.app.message_content = False  # the twin closes the gateway with 4014
    env = kimaki_env(world, twin)
    async with kimaki(env, tmp_path / "data") as run:
        code = await run.wait_exit(TIMEOUT)
    assert code != 0
    assert_one_clear_error(run, "Message Content", "Developer Portal")
    assert_nothing_left(run)


# --- 4. kill -9 mid-reply: every part exactly once after the restart


async def test_kill_9_mid_reply_then_restart_posts_every_part_exactly_once(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    """Parts queued in the outbox when kimaki dies are posted once each, in order, next start.

    The turn completes in OpenCode before the kill: the twin refuses the thread's posts
    (503) from the moment the first parts are posted, so the rest wait in the outbox.
    The OpenCode server outlives the kill (its keeper holds it) and the next start
    re-attaches to it; it must send exactly the queued rows, and its catch-up must not
    plan the already-posted parts again.
    """
    assert twin.seed is not None
    data = tmp_path / "data"
    env = kimaki_env(world, twin, extra={"KIMAKI_DISABLE_SYNC": "1"})
    gate = asyncio.Event()
    project = make_project()
    prompt = f"k9-reply-{project.name}"  # the model is shared: keep this test's turn apart
    scripted_model.add_rule(
        prompt,
        [
            text("k9 alpha: looking around.") + bash("echo k9-bravo"),
            bash("echo k9-charlie").held(gate),
            text("k9 delta: all done."),
        ],
    )
    markers = ["k9 alpha", "echo k9-bravo", "echo k9-charlie", "k9 delta"]
    channel = project_channel(twin, await project_add(env, data, project))
    try:
        async with kimaki(env, data) as first:
            await first.wait_for_line(READY, timeout=TIMEOUT)
            thread = await open_thread(twin, channel, f"{prompt}: please work")
            # alpha and bravo are posted while the second step is held at the model.
            await eventually(
                _posted(twin, thread, markers[:2]), timeout=TIMEOUT, what="alpha and bravo"
            )
            route = f"/channels/{thread.id}/messages"
            refuse = twin.add_http_fault("POST", route, 503, count=None)
            gate.set()
            rows = await eventually(
                _queued(data, thread, markers[2:]), timeout=TIMEOUT, what="charlie, delta queued"
            )
            assert all(r.state == OutboxState.PENDING for r in rows if "k9 delta" in r.content)
            orphan = first.server_pid()
            await first.kill9()
        twin.faults.rules.remove(refuse)
        assert not any(m in twin.render(thread) for m in markers[2:]), "sent before the kill"

        async with kimaki(env, data) as second:
            await second.wait_for_line(READY, timeout=TIMEOUT)
            assert second.server_pid() == orphan, "the next start re-attaches to the server"
            assert any("re-attached to the OpenCode server" in line for line in second.lines)
            await eventually(_posted(twin, thread, markers), timeout=TIMEOUT, what="all parts")
            assert await second.stop() == 0, second.output
        assert_nothing_left(second)
    finally:
        gate.set()

    transcript = "\n".join(m.content for m in bot_messages(twin, thread))
    counts = {marker: transcript.count(marker) for marker in markers}
    assert counts == dict.fromkeys(markers, 1), twin.render(thread)
    positions = [transcript.index(marker) for marker in markers]
    assert positions == sorted(positions), twin.render(thread)
    nonces = [m.nonce for m in bot_messages(twin, thread) if m.nonce]
    assert len(nonces) == len(set(nonces)), twin.render(thread)
    store = Store.open(data)
    try:
        assert store.outbox.pending_count(ThreadID(thread.id)) == 0
    finally:
        store.close()


def _posted(twin: Twin, thread: Channel, markers: list[str]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        transcript = "\n".join(m.content for m in bot_messages(twin, thread))
        return all(marker in transcript for marker in markers)

    return probe


def _queued(
    data: Path, thread: Channel, markers: list[str]
) -> Callable[[], Awaitable[list[OutboxRow] | None]]:
    """The outbox rows of `thread`, once every marker is in one of them."""

    async def probe() -> list[OutboxRow] | None:
        store = Store.open(data)
        try:
            rows = store.outbox.in_thread(ThreadID(thread.id))
        finally:
            store.close()
        content = "\n".join(r.content for r in rows)
        return rows if all(marker in content for marker in markers) else None

    return probe


# --- 5. the OpenCode server killed mid-turn


async def kill_server_mid_turn(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    project: Path,
    data: Path,
    run_test: Callable[[KimakiProcess, Channel, int], Awaitable[None]],
) -> None:
    """Hold a turn at the model, kill -9 `opencode serve`, wait for the supervisor's restart.

    Then `run_test(run, thread, cursor)` judges what the user sees; `cursor` is the twin's
    event cursor just before the kill.
    """
    env = kimaki_env(world, twin, extra={"KIMAKI_DISABLE_SYNC": "1"})
    channel = project_channel(twin, await project_add(env, data, project))
    gate = asyncio.Event()
    first = f"sk-first-{project.name}"  # the model is shared: keep this test's turns apart
    scripted_model.add_rule(first, [text("sk first answer, never finished.", gate=gate)])
    scripted_model.add_rule(f"sk-second-{project.name}", [text("sk second answer.")])
    try:
        async with kimaki(env, data) as run:
            await run.wait_for_line(READY, timeout=TIMEOUT)
            thread = await open_thread(twin, channel, f"{first}: start working")
            await scripted_model.wait_for_request(
                lambda r: r.kind == "turn" and first in r.prompt, timeout=TIMEOUT
            )
            victim = run.server_pid()
            mark, cursor = run.mark(), twin.cursor()
            os.kill(victim, signal.SIGKILL)
            await run.wait_for_line("restarting in", since=mark, timeout=TIMEOUT)
            await run.wait_for_line("ready at", since=mark, timeout=TIMEOUT)
            assert run.server_pid() != victim
            gate.set()  # the model may stop holding a stream nobody reads any more
            try:
                await run_test(run, thread, cursor)
            except (AssertionError, TimeoutError) as exc:
                raise AssertionError(f"{exc}\n{twin.render(thread)}\n{run.output}") from exc
            assert await run.stop() == 0, run.output
        assert_nothing_left(run)
    finally:
        gate.set()


async def test_opencode_server_killed_mid_turn_is_restarted_and_the_thread_works_again(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    assert twin.seed is not None
    owner = twin.user(twin.seed.owner)

    project = make_project()

    async def next_message_gets_a_reply(run: KimakiProcess, thread: Channel, _: int) -> None:
        since = twin.cursor()
        owner.send(thread, f"sk-second-{project.name}: are you back?")
        await twin.wait_for_message(
            lambda m: "sk second answer." in m.content, channel=thread, since=since, timeout=TIMEOUT
        )

    await kill_server_mid_turn(
        world, twin, scripted_model, project, tmp_path / "data", next_message_gets_a_reply
    )


async def test_opencode_server_killed_mid_turn_tells_the_user_in_the_thread(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    assert twin.seed is not None
    bot = twin.seed.bot

    async def user_is_told(run: KimakiProcess, thread: Channel, cursor: int) -> None:
        notice = await twin.wait_for_message(
            lambda m: m.content.startswith(NOTICE_PREFIX) and "opencode" in m.content.lower(),
            channel=thread,
            author=bot,
            since=cursor,
            timeout=10,  # counted from the restarted server being ready
        )
        print("NOTICE", repr(notice.content))
        print(twin.render(thread))
        print(run.output)

    await kill_server_mid_turn(
        world, twin, scripted_model, make_project(), tmp_path / "data", user_is_told
    )
