"""An OpenCode command whose HTTP call is cut: said only when OpenCode did not take it.

The command endpoint answers when the command's turn ends, so its call is the one kimaki
call that stays open for a whole turn. A proxy in front of the real OpenCode drops that
connection, after or before passing the request on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

import kimaki.turns.command
from kimaki.opencode.server import OpenCodeServer
from scripted_model import ScriptedModel, text
from tests.bot.test_info_commands_e2e import user_messages, with_command
from tests.support.kimaki_app import StartKimaki
from tests.support.slash import slash
from tests.support.slow_proxy import SlowProxy
from tests.support.transcript import bot_lines
from tests.support.waiting import eventually

TIMEOUT = 60


@pytest.fixture
async def proxy(opencode_server: OpenCodeServer) -> AsyncIterator[SlowProxy]:
    slow = SlowProxy(lambda: opencode_server.endpoint)
    await slow.start()
    try:
        yield slow
    finally:
        await slow.stop()


async def test_a_cut_command_call_is_reported_only_when_opencode_did_not_run_it(
    start_kimaki: StartKimaki,
    scripted_model: ScriptedModel,
    proxy: SlowProxy,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="kimaki.turns.command")
    monkeypatch.setattr(kimaki.turns.command, "BUSY_WAIT", 3.0)  # how long it looks
    running = await start_kimaki(
        opencode=proxy.endpoint, prepare=with_command("greet", "cut-greet hello to $ARGUMENTS")
    )
    twin = running.twin
    scripted_model.add_rule("cut-start", [text("started")])
    thread, record = await running.open_thread("cut-start")
    await twin.wait_for_message(
        lambda m: "started" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )

    # Cut mid-turn, after OpenCode took it: the turn goes on and no failure is claimed.
    gate = asyncio.Event()
    scripted_model.add_rule("cut-greet hello to Ann", [text("greeted Ann", gate=gate)])
    proxy.cut("POST", "/session/*/command", pass_on=True)
    await slash(running, "greet-cmd", {"arguments": "Ann"}, channel=thread)
    held = await scripted_model.wait_for_request(
        lambda r: "cut-greet hello to Ann" in r.prompt, timeout=TIMEOUT
    )
    await asyncio.wait_for(held.paused.wait(), TIMEOUT)
    proxy.drop()

    async def seen() -> bool:
        return "OpenCode runs it on" in caplog.text

    await eventually(seen, what="kimaki seeing the cut")
    gate.set()
    await twin.wait_for_message(
        lambda m: "greeted Ann" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    assert proxy.cut_off == [f"POST /session/{record.session_id}/command"]
    assert not any("failed" in line for line in bot_lines(twin, thread))

    # Cut before OpenCode saw it: nothing ran, and the thread says so.
    proxy.cuts.clear()
    proxy.cut("POST", "/session/*/command", pass_on=False)
    await slash(running, "greet-cmd", {"arguments": "Bob"}, channel=thread)
    await twin.wait_for_message(
        lambda m: "OpenCode's /greet failed" in m.content,
        channel=thread,
        timeout=TIMEOUT,
        edits=True,
    )
    assert len(proxy.cut_off) == 2
    prompts = [m.text() for m in await user_messages(running, record.session_id)]
    assert prompts == ["cut-start", "cut-greet hello to Ann"]
