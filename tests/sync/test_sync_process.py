"""Background sync across a kill -9 of the kimaki process: no duplicate, no gap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from discord_twin import Twin
from discord_twin.state import Channel
from scripted_model import ScriptedModel, bash, text
from tests.support.kimaki_process import kimaki, kimaki_env, project_add
from tests.support.transcript import FOOTER_PREFIX
from tests.support.waiting import eventually
from tests.support.world import World, opencode_run

TIMEOUT = 90


def bot_lines(twin: Twin, thread: Channel) -> list[str]:
    assert twin.seed is not None
    bot = twin.seed.bot.id
    return [
        line for m in twin.messages(thread) if m.author_id == bot for line in m.content.split("\n")
    ]


async def test_kill_9_of_kimaki_mid_turn_then_restart_mirrors_each_part_once(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    """The terminal's turn goes on while kimaki is dead; the next start fills in the rest."""
    data = tmp_path / "data"
    env = kimaki_env(world, twin, extra={"KIMAKI_SYNC_INTERVAL": "0.5"})
    project = make_project()
    prompt = f"sk9-{project.name}"  # the model is shared: keep this test's turn apart
    gate = asyncio.Event()
    scripted_model.add_rule(
        prompt,
        [
            text("sk9 one.") + bash("echo sk9-two"),
            bash("echo sk9-three").held(gate),
            text("sk9 four."),
        ],
        title="Crash test",
    )
    channel_id = await project_add(env, data, project)
    channel = next(c for c in twin.channels() if c.id == channel_id)
    run = asyncio.create_task(opencode_run(world, project, [prompt], timeout=240))
    try:
        async with kimaki(env, data) as first:
            thread = await twin.wait_for_thread(
                lambda t: t.name == "Sync: Crash test", parent=channel, timeout=TIMEOUT
            )

            async def first_parts() -> bool:
                joined = "\n".join(bot_lines(twin, thread))
                return "sk9 one." in joined and "echo sk9-two" in joined

            await eventually(first_parts, timeout=TIMEOUT, what="the first parts")
            await first.kill9()
        gate.set()
        result = await run
        assert result.returncode == 0, result.stderr

        async with kimaki(env, data) as second:

            async def all_parts() -> bool:
                return "⬥ sk9 four." in bot_lines(twin, thread)

            await eventually(all_parts, timeout=TIMEOUT, what="the rest of the turn")
            assert await second.stop() == 0, second.output
    finally:
        gate.set()
        if not run.done():
            run.cancel()

    lines = bot_lines(twin, thread)
    assert lines[0] == f"» **user:** {prompt}"
    joined = "\n".join(lines)
    for marker in ("sk9 one.", "echo sk9-two", "echo sk9-three", "sk9 four."):
        assert joined.count(marker) == 1, twin.render(thread)
    assert [t.id for t in twin.threads(channel)] == [thread.id]


async def test_kill_9_between_creating_a_sync_thread_and_recording_it_leaves_one_thread(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    """Discord made the thread but kimaki died before it heard back: the next start
    adopts that thread (the intent was recorded first) instead of making a second."""
    data = tmp_path / "data"
    env = kimaki_env(world, twin, extra={"KIMAKI_SYNC_INTERVAL": "0.5"})
    project = make_project()
    prompt = f"bind-once-{project.name}"
    scripted_model.add_rule(prompt, [text("Bound once.")], title="Bound once")
    channel_id = await project_add(env, data, project)
    channel = next(c for c in twin.channels() if c.id == channel_id)
    result = await opencode_run(world, project, [prompt], timeout=240)
    assert result.returncode == 0, result.stderr

    hold = twin.hold_requests("POST", "/channels/*/threads", after_processing=True)
    try:
        async with kimaki(env, data) as first:
            await hold.wait_held(1, timeout=TIMEOUT)  # created on Discord, answer held back
            await first.kill9()
    finally:
        hold.release()
    made = [t for t in twin.threads(channel) if t.name == "Sync: Bound once"]
    assert len(made) == 1, "the held create went through on Discord's side"

    async with kimaki(env, data) as second:

        async def mirrored() -> bool:
            return any(line.startswith(FOOTER_PREFIX) for line in bot_lines(twin, made[0]))

        await eventually(mirrored, timeout=TIMEOUT, what="the answer in the adopted thread")
        assert await second.stop() == 0, second.output
    assert [t.id for t in twin.threads(channel)] == [made[0].id]
    lines = bot_lines(twin, made[0])
    assert lines[:2] == [f"» **user:** {prompt}", "⬥ Bound once."], lines
    assert len(lines) == 3 and lines[2].startswith(FOOTER_PREFIX), "the turn's footer, once"
