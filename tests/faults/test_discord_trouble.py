"""Discord in trouble while turns stream: 429 storms under realistic rate limits, 5xx
bursts, 2 s answers, and the gateway closed, told to reconnect (op 7) and invalidated
(op 9), resumable and not. Nothing is lost or doubled, and kimaki stays up."""

from __future__ import annotations

import asyncio

from discord_twin import Twin
from discord_twin.state import Channel
from scripted_model import ScriptedModel, Step, bash, text
from tests.faults.oracle import check
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 90
POSTS = "/channels/*/messages"


def long_turn(tag: str, steps: int = 3, pace: float = 0.02) -> list[Step]:
    """`steps` steps of text and a shell command, then a closing text, each streamed slowly."""
    turn = [
        (text(f"fx-{tag}-s{n} step {n} of the work.") + bash(f"echo fx-{tag}-t{n}")).slow(pace)
        for n in range(steps)
    ]
    return [*turn, text(f"fx-{tag}-end all done.").slow(pace)]


async def wait_gateway(twin: Twin, kind: str, since: int) -> None:
    await twin.wait_for_event([kind], since=since, timeout=TIMEOUT)


async def posted(running: Running, thread: Channel, marker: str) -> None:
    await running.twin.wait_for_message(
        lambda m: marker in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )


async def test_rate_limits_server_errors_slow_answers_and_gateway_faults(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin = running.twin
    assert twin.seed is not None
    twin.set_rate_limits("realistic")
    owner = twin.user(running.owner)
    name = running.project.name[-12:].replace("_", "-")

    # Three sessions stream at once while the posts meet a 429 storm and a 5xx burst.
    storm = twin.add_http_fault("POST", POSTS, 429, count=10, probability=0.5, retry_after=0.3)
    burst = twin.add_http_fault("POST", POSTS, 502, count=5)
    threads = []
    for n in range(3):
        tag = f"dt{n}"
        scripted_model.add_rule(f"fxq-{tag}-{name}:", long_turn(tag, 2))
        thread, _ = await running.open_thread(f"fxq-{tag}-{name}: work in parallel")
        threads.append(thread)
    for n, thread in enumerate(threads):
        await posted(running, thread, f"fx-dt{n}-end")
    assert storm.hits > 0 and burst.hits == 5

    # Slow answers (2 s each) on the next posts.
    slow = twin.add_http_fault("POST", POSTS, None, delay=2.0, count=3)
    scripted_model.add_rule(f"fxq-slow-{name}:", long_turn("slow", 1))
    owner.send(threads[0], f"fxq-slow-{name}: again, slowly")
    await posted(running, threads[0], "fx-slow-end")
    assert slow.hits >= 1

    # The gateway, while one turn streams: closed (resumable), op 7, op 9 resumable and not.
    scripted_model.add_rule(f"fxq-gw-{name}:", long_turn("gw", 4, pace=0.1))
    owner.send(threads[1], f"fxq-gw-{name}: keep going through it all")
    await scripted_model.wait_for_request(lambda r: f"fxq-gw-{name}:" in r.prompt)
    for fault, expect in (
        (lambda: twin.gateway.close_connections(4000), "gateway_resume"),
        (twin.gateway.send_reconnect, "gateway_resume"),
        (lambda: twin.gateway.invalidate_sessions(resumable=True), "gateway_resume"),
        (lambda: twin.gateway.invalidate_sessions(resumable=False), "gateway_identify"),
    ):
        since = twin.cursor()
        fault()
        await wait_gateway(twin, expect, since)
    await posted(running, threads[1], "fx-gw-end")

    # Not resumable while people write: those messages are read back after READY.
    since = twin.cursor()
    twin.gateway.close_connections(4000, hold=True)
    twin.gateway.end_app_sessions(twin.seed.app.id, 4000)
    missed = []
    for n, thread in enumerate(threads):
        tag = f"gap{n}"
        scripted_model.add_rule(f"fxq-{tag}-{name}:", long_turn(tag, 1))
        missed.append(owner.send(thread, f"fxq-{tag}-{name}: written during the gap"))
    twin.gateway.release()
    await wait_gateway(twin, "gateway_identify", since)
    for n, thread in enumerate(threads):
        await posted(running, thread, f"fx-gap{n}-end")

    await running.app.outbox.flush(timeout=TIMEOUT)
    result = await check(
        twin,
        running.app.store,
        running.app.opencode,
        channels=[running.channel],
        author_id=twin.seed.owner.id,
    )
    assert result.clean, result.summary()
    assert result.parts_checked >= 3 * 5 + 3 + 9 + 3 * 3
    assert result.messages_checked == 3 + 1 + 1 + 3
    assert running.app.bot.is_ready() and not running.app.bot.is_closed()


async def test_a_thread_without_access_for_a_while_keeps_its_messages(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """403 is "no access now": the thread is kept, its messages wait and arrive once."""
    running = await start_kimaki()
    twin = running.twin
    assert twin.seed is not None
    name = running.project.name[-12:].replace("_", "-")
    gate = asyncio.Event()
    scripted_model.add_rule(
        f"fxq-403-{name}:",
        [text("fx-403-a before.") + bash("echo fx-403-b"), text("fx-403-c after.", gate=gate)],
    )
    thread, record = await running.open_thread(f"fxq-403-{name}: work")
    try:
        await posted(running, thread, "fx-403-b")
        twin.revoke_access(running.channel)
        gate.set()

        async def refused() -> bool:
            # fx-403-c goes out as a post or, appended to kimaki's last message, an edit.
            where = f"/channels/{thread.id}/messages"
            return any(
                r.status == 403 and r.method in ("POST", "PATCH") and r.path.startswith(where)
                for r in twin.requests
            )

        await eventually(refused, timeout=TIMEOUT, what="a post or edit refused with 403")
        twin.restore_access(running.channel)
    finally:
        gate.set()
    await posted(running, thread, "fx-403-c")
    stored = running.app.store.threads.get(record.thread_id)
    assert stored is not None and not stored.deleted
    result = await check(
        twin,
        running.app.store,
        running.app.opencode,
        channels=[running.channel],
        author_id=twin.seed.owner.id,
    )
    assert result.clean, result.summary()
