"""Kill points: where a kill -9 of kimaki lands, each a small scripted scenario.

Every point leaves kimaki running again with the point's turns finished, so the oracle
can judge all points at once at the end. A point's parts carry `fx-<tag>-…` markers and
its prompts `fxq-<tag>…:`, so points never mix. `pick(rng, n)` chooses points (and
their variants) from a seeded generator: the same seed gives the same run.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from discord_twin.state import Channel
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.render import NOTICE_PREFIX
from kimaki.turns.marks import QUEUED_EMOJI
from scripted_model import RecordedRequest, bash, text
from tests.faults.rig import TIMEOUT, Rig
from tests.support.waiting import eventually

Point = Callable[[Rig, str, random.Random], Awaitable[None]]


@dataclass(frozen=True)
class KillPoint:
    kind: str
    tag: str


async def _paused(rig: Rig, prompt: str, step: int) -> RecordedRequest:
    """The model request of `step` of the turn of `prompt`, once it waits at its gate."""
    request = await rig.model.wait_for_request(
        lambda r: r.kind == "turn" and prompt in r.prompt and r.step_index == step,
        timeout=TIMEOUT,
    )
    await asyncio.wait_for(request.paused.wait(), TIMEOUT)
    return request


async def _new_thread(rig: Rig, words: str) -> Channel:
    since = rig.twin.cursor()
    rig.owner.send(rig.channel, words)
    thread = await rig.twin.wait_for_thread(parent=rig.channel, since=since, timeout=TIMEOUT)
    rig.threads.append(thread)
    return thread


async def _some_thread(rig: Rig, tag: str) -> Channel:
    """An existing Discord-started thread, or a fresh one if there is none yet."""
    live = [t for t in rig.threads if rig.twin.channel(t.id) is not None]
    if live:
        return live[-1]
    prompt = f"fxq-{tag}-base:"
    rig.model.add_rule(prompt, [text(f"fx-{tag}-base ready.")])
    thread = await _new_thread(rig, f"{prompt} set up a thread")
    await rig.posted(f"fx-{tag}-base")
    return thread


def _two_steps(tag: str, gate: asyncio.Event | None = None) -> list[object]:
    """Text and a shell command, then a last text (held at `gate`, if given)."""
    return [
        text(f"fx-{tag}-a looking.") + bash(f"echo fx-{tag}-b"),
        text(f"fx-{tag}-c finished the work here.", gate=gate),
    ]


# --- the points


async def streaming(rig: Rig, tag: str, rng: random.Random) -> None:
    """kill -9 while the model streams the last step of a Discord-started turn."""
    gate = asyncio.Event()
    prompt = f"fxq-{tag}:"
    rig.model.add_rule(prompt, _two_steps(tag, gate))  # type: ignore[arg-type]
    try:
        if rng.random() < 0.5 or not rig.threads:
            await _new_thread(rig, f"{prompt} please work")
        else:
            rig.owner.send(await _some_thread(rig, tag), f"{prompt} more work")
        await _paused(rig, prompt, 1)
        await rig.kill9()
        gate.set()  # the turn finishes while kimaki is dead (its server lives on)
        await rig.start()
    finally:
        gate.set()
    await rig.posted(f"fx-{tag}-c")


async def after_tool(rig: Rig, tag: str, rng: random.Random) -> None:
    """kill -9 right after a tool step's line reached Discord."""
    prompt = f"fxq-{tag}:"
    rig.model.add_rule(prompt, _two_steps(tag))  # type: ignore[arg-type]
    rig.owner.send(await _some_thread(rig, tag), f"{prompt} run a command")
    await rig.posted(f"fx-{tag}-b", timeout=TIMEOUT)
    await rig.kill9()
    await rig.start()
    await rig.posted(f"fx-{tag}-c")


async def held_post(rig: Rig, tag: str, rng: random.Random) -> None:
    """kill -9 while Discord holds kimaki's post (made already, or not yet)."""
    thread = await _some_thread(rig, tag)
    prompt = f"fxq-{tag}:"
    rig.model.add_rule(prompt, [text(f"fx-{tag}-a the answer.")])
    made = rng.random() < 0.5
    hold = rig.twin.hold_requests("POST", f"/channels/{thread.id}/messages", after_processing=made)
    try:
        rig.owner.send(thread, f"{prompt} answer me")
        await hold.wait_held(1, timeout=TIMEOUT)
        await rig.kill9()
    finally:
        hold.release()
    await rig.start()
    await rig.posted(f"fx-{tag}-a")


async def catch_up(rig: Rig, tag: str, rng: random.Random) -> None:
    """Messages written while kimaki is down; kill -9 during the catch-up that runs them."""
    thread = await _some_thread(rig, tag)
    if rig.running:
        await rig.kill9()
    first, second = f"fxq-{tag}-1:", f"fxq-{tag}-2:"
    rig.model.add_rule(first, [text(f"fx-{tag}-1 new session answer.")])
    rig.model.add_rule(second, [text(f"fx-{tag}-2 follow-up answer.")])
    rig.owner.send(rig.channel, f"{first} written while kimaki was down")
    rig.owner.send(thread, f"{second} also written while it was down")
    await rig.start()
    await rig.model.wait_for_request(
        lambda r: r.kind == "turn" and (first in r.prompt or second in r.prompt), timeout=TIMEOUT
    )
    await rig.kill9()
    await rig.start()
    await rig.posted(f"fx-{tag}-1")
    await rig.posted(f"fx-{tag}-2")
    rig.threads.extend(t for t in rig.twin.threads(rig.channel) if t not in rig.threads)


async def thread_create(rig: Rig, tag: str, rng: random.Random) -> None:
    """kill -9 while Discord holds the answer to creating a message's thread."""
    prompt = f"fxq-{tag}:"
    rig.model.add_rule(prompt, [text(f"fx-{tag}-a answered in the adopted thread.")])
    hold = rig.twin.hold_requests("POST", "/channels/*/messages/*/threads", after_processing=True)
    try:
        rig.owner.send(rig.channel, f"{prompt} start a session")
        await hold.wait_held(1, timeout=TIMEOUT)
        await rig.kill9()
    finally:
        hold.release()
    await rig.start()
    await rig.posted(f"fx-{tag}-a")
    rig.threads.extend(t for t in rig.twin.threads(rig.channel) if t not in rig.threads)


async def synced(rig: Rig, tag: str, rng: random.Random) -> None:
    """kill -9 during a turn started outside Discord (a client of the shared server)."""
    gate = asyncio.Event()
    prompt = f"fxq-{tag}:"
    rig.model.add_rule(prompt, _two_steps(tag, gate), title=f"Synced {tag}")  # type: ignore[arg-type]
    try:
        async with OpenCodeClient(rig.endpoint) as client:
            session = await client.create_session(str(rig.project))
            await client.prompt_async(session.id, str(rig.project), [TextInput(f"{prompt} go")])
        await rig.posted(f"fx-{tag}-a")
        await _paused(rig, prompt, 1)
        await rig.kill9()
        gate.set()
        await rig.start()
    finally:
        gate.set()
    await rig.posted(f"fx-{tag}-c")


async def queued(rig: Rig, tag: str, rng: random.Random) -> None:
    """kill -9 while a second message waits in kimaki's queue behind a running turn."""
    thread = await _some_thread(rig, tag)
    gate = asyncio.Event()
    first, second = f"fxq-{tag}-1:", f"fxq-{tag}-2:"
    rig.model.add_rule(first, [text(f"fx-{tag}-1 the long answer.", gate=gate)])
    rig.model.add_rule(second, [text(f"fx-{tag}-2 the queued answer.")])
    try:
        since = rig.twin.cursor()
        rig.owner.send(thread, f"{first} a long task")
        await _paused(rig, first, 0)
        held = rig.owner.send(thread, f"{second} and then this")
        assert rig.twin.seed is not None
        bot = rig.twin.seed.bot.id
        await rig.twin.wait_for_event(  # kimaki's queue marks what it holds
            ("reaction_add",),
            lambda e: e[0].id == held.id and e[1] == QUEUED_EMOJI and e[2] == bot,
            since=since,
            timeout=TIMEOUT,
        )
        await rig.kill9()
        gate.set()
        await rig.start()
    finally:
        gate.set()
    await rig.posted(f"fx-{tag}-1")
    await rig.posted(f"fx-{tag}-2")


async def opencode_killed(rig: Rig, tag: str, rng: random.Random) -> None:
    """The OpenCode server (not kimaki) killed mid-turn: restarted, the thread told once,
    and the next prompt works."""
    import os
    import signal

    thread = await _some_thread(rig, tag)
    gate = asyncio.Event()
    first, second = f"fxq-{tag}-1:", f"fxq-{tag}-2:"
    rig.model.add_rule(first, [text("a turn OpenCode will not finish.", gate=gate)])
    rig.model.add_rule(second, [text(f"fx-{tag}-2 back after the restart.")])
    assert rig.run is not None
    try:
        since = rig.twin.cursor()
        rig.owner.send(thread, f"{first} start")
        await _paused(rig, first, 0)
        mark = rig.run.mark()
        os.kill(rig.server_pid(), signal.SIGKILL)
        await rig.run.wait_for_line("ready at", since=mark, timeout=TIMEOUT)
    finally:
        gate.set()
    notice = await rig.twin.wait_for_message(
        lambda m: m.content.startswith(NOTICE_PREFIX) and "stopped in the middle" in m.content,
        channel=thread,
        since=since,
        timeout=TIMEOUT,
    )
    rig.owner.send(thread, f"{second} are you back?")
    await rig.posted(f"fx-{tag}-2")

    async def told_once() -> bool:
        notes = [
            m
            for m in rig.twin.messages(thread)
            if "stopped in the middle" in m.content and m.id >= notice.id
        ]
        return len(notes) == 1

    await eventually(told_once, timeout=10, what="one interruption notice")


POINTS: dict[str, Point] = {
    "streaming": streaming,
    "after_tool": after_tool,
    "held_post": held_post,
    "catch_up": catch_up,
    "thread_create": thread_create,
    "synced": synced,
    "queued": queued,
}
"""Kill points of kimaki (OpenCode's own death is `opencode_killed`)."""


def pick(rng: random.Random, count: int, prefix: str) -> list[KillPoint]:
    """`count` kill points: every kind once (in a seeded order) before any repeats."""
    kinds = list(POINTS)
    chosen: list[str] = []
    while len(chosen) < count:
        batch = kinds[:]
        rng.shuffle(batch)
        chosen += batch
    return [KillPoint(kind, f"{prefix}{n}") for n, kind in enumerate(chosen[:count])]
