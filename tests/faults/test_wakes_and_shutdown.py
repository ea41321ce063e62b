"""A wake that cannot read the session is retried, not dropped; a failing part of shutdown
does not keep Discord, OpenCode and the store from being closed, in that order."""

from __future__ import annotations

import asyncio
import logging

import pytest

import kimaki.bridge
from kimaki.opencode.errors import OpenCodeUnavailable
from kimaki.opencode.prompt import TextInput
from kimaki.store import ThreadID
from kimaki.store.db import now_ms
from kimaki.util.backoff import Backoff
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import StartKimaki
from tests.support.transcript import has_footer
from tests.support.waiting import eventually

TIMEOUT = 60


async def test_a_wake_whose_read_fails_is_retried_and_shutdown_closes_everything_in_order(
    start_kimaki: StartKimaki,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(kimaki.bridge, "WAKE_RETRY", Backoff(initial=0.05, maximum=0.2))
    running = await start_kimaki()
    name = running.project.name[-10:].replace("_", "-")
    scripted_model.add_rule(f"fxq-wake-{name}:", [text("fx-wake-a here.")])
    thread, _ = await running.open_thread(f"fxq-wake-{name}: hi")
    # The turn over and mirrored (its footer out, the bridge idle), so that what is
    # counted below is the one wake of this test, not the finished turn's last events.
    await running.twin.wait_for_message(has_footer, channel=thread, timeout=TIMEOUT, edits=True)
    assert "fx-wake-a" in "".join(m.content for m in running.twin.messages(thread))
    await running.app.bridges.settle([ThreadID(thread.id)])
    bridge = running.app.bridges.get(ThreadID(thread.id))
    assert bridge is not None
    real = bridge.reconcile
    calls: list[str] = []

    async def flaky() -> None:
        calls.append("try")
        if len(calls) <= 2:
            raise OpenCodeUnavailable("OpenCode is restarting")
        await real()
        calls.append("read")

    monkeypatch.setattr(bridge, "reconcile", flaky)
    bridge.wake()

    async def read() -> bool:
        return calls[-1:] == ["read"]

    await eventually(read, timeout=TIMEOUT, what="the wake retried until it read the session")
    # A late event of the turn may wake the bridge again after the read: only the first
    # wake's history is this test's (a wake while it retries is coalesced into it).
    assert calls[:4] == ["try", "try", "try", "read"]
    assert "cannot mirror the session now" in caplog.text

    # Shutdown: a part that fails to stop is logged; the rest still closes, in order.
    app, closed = running.app, []

    async def broken() -> None:
        raise RuntimeError("the router would not stop")

    def record(what: str, close: object) -> object:
        async def async_close() -> None:
            closed.append(what)
            await close()  # type: ignore[operator]

        def sync_close() -> None:
            closed.append(what)
            close()  # type: ignore[operator]

        return sync_close if what == "store" else async_close

    monkeypatch.setattr(app.router, "stop", broken)
    monkeypatch.setattr(app.bot, "close", record("discord", app.bot.close))
    monkeypatch.setattr(app.opencode, "close", record("opencode", app.opencode.close))
    monkeypatch.setattr(app.store, "close", record("store", app.store.close))
    with caplog.at_level(logging.ERROR):
        await app.stop()
    assert closed == ["discord", "opencode", "store"]
    assert "stopping the event router failed" in caplog.text
    assert "the router would not stop" in caplog.text  # with its traceback


async def test_a_discord_error_making_one_sync_thread_leaves_the_other_sessions_syncing(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_kimaki(KIMAKI_DISABLE_SYNC="0", KIMAKI_SYNC_INTERVAL="0.5")
    twin, opencode = running.twin, running.app.opencode
    name = running.project.name[-10:].replace("_", "-")
    fault = twin.add_http_fault("POST", f"/channels/{running.channel.id}/threads", 400)
    where = str(running.project)
    for n in (1, 2):
        scripted_model.add_rule(f"fxq-term{n}-{name}:", [text(f"fx-term{n}-a from a terminal.")])
        session = await opencode.create_session(where)
        await opencode.prompt_async(session.id, where, [TextInput(f"fxq-term{n}-{name}: go")])

    async def both_mirrored() -> bool:
        texts = [m.content for t in twin.threads(running.channel) for m in twin.messages(t)]
        return all(any(f"fx-term{n}-a" in t for t in texts) for n in (1, 2))

    await eventually(both_mirrored, timeout=TIMEOUT, what="both sessions in Sync threads")
    assert fault.hits == 1, "one thread creation was refused"
    failed = [r for r in caplog.records if r.getMessage().startswith("sync of session")]
    assert failed and failed[0].exc_info is not None, "logged with its traceback"


async def test_typing_stops_the_moment_a_turn_is_declared_interrupted(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """After an OpenCode restart, a Discord turn begun before it that is not busy is declared
    interrupted; its thread stops showing typing then (it once went on every 7 s)."""
    running = await start_kimaki()
    name = running.project.name[-10:].replace("_", "-")
    gate = asyncio.Event()
    scripted_model.add_rule(f"fxq-typ-{name}:", [text("fx-typ-a late.", gate=gate)])
    try:
        thread, record = await running.open_thread(f"fxq-typ-{name}: work")
        await scripted_model.wait_for_request(
            lambda r: r.kind == "turn" and f"fxq-typ-{name}:" in r.prompt and r.paused.is_set(),
            timeout=TIMEOUT,
        )
        bridge = running.app.bridges.get(ThreadID(thread.id))
        assert bridge is not None

        async def typing() -> bool:
            return bridge.typing.running

        await eventually(typing, timeout=TIMEOUT, what="typing while the turn runs")
        # What a reconnect after an OpenCode restart sees: the turn unfinished, not busy.
        session = await running.app.opencode.session(record.session_id, str(record.directory))
        await bridge.catch_up(session, busy=False, connected_at=now_ms() + 60_000)
        assert bridge.interrupted_turn is not None
        assert bridge.typing.task is not None
        await asyncio.wait_for(asyncio.shield(bridge.typing.task), 5.0)  # ends now, not in 7 s
        await running.twin.wait_for_message(
            lambda m: "stopped in the middle" in m.content, channel=thread, timeout=TIMEOUT
        )
    finally:
        gate.set()
