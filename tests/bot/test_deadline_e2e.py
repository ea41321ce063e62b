"""Discord's 3-second deadline: kimaki acknowledges an interaction before it waits on OpenCode.

kimaki talks to the real OpenCode through a proxy that answers the calls under test
5 s late. The twin enforces Discord's deadline: an answer after 3 s would be refused
(10062 Unknown interaction) and the interaction would show no response at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kimaki.opencode.server import OpenCodeServer
from scripted_model import ScriptedModel, text
from tests.bot.test_asks_e2e import (
    ask_for_env_reads,
    custom_id,
    edited,
    env_read_rule,
    finished_tool,
    prompt_in,
)
from tests.support.kimaki_app import StartKimaki
from tests.support.slow_proxy import SlowProxy
from tests.support.waiting import eventually

TIMEOUT = 60
DEFERRED_MESSAGE = 5
DEFERRED_UPDATE = 6


@pytest.fixture
async def proxy(opencode_server: OpenCodeServer) -> AsyncIterator[SlowProxy]:
    slow = SlowProxy(lambda: opencode_server.endpoint)
    await slow.start()
    try:
        yield slow
    finally:
        await slow.stop()


async def test_abort_and_a_permission_click_are_acknowledged_before_a_slow_opencode(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, proxy: SlowProxy
) -> None:
    running = await start_kimaki(opencode=proxy.endpoint, prepare=ask_for_env_reads)
    twin, owner = running.twin, running.twin.user(running.owner)
    assert twin.ops.interaction_deadline <= 3
    marker = f"{running.project.name}-slow"
    env_read_rule(scripted_model, marker, running.project / ".env", f"Read slowly {marker}.")
    thread, _ = await running.open_thread(f"{marker} read the env")
    prompt = await prompt_in(running, thread, "Permission needed")

    proxy.slow_down("POST", "/permission/*/reply", 5)
    click = await owner.click(prompt, custom_id(prompt, ":once")).wait_response(timeout=TIMEOUT)
    assert click.response_type == DEFERRED_UPDATE
    await edited(running, prompt, "Accepted once")
    await twin.wait_for_message(
        lambda m: f"Read slowly {marker}." in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    assert await eventually(lambda: finished_tool(running, thread, "completed"), what="the read")

    proxy.slow_down("POST", "/session/*/abort", 5)
    scripted_model.add_rule("never-used", [text("unused")])
    aborted = owner.slash("abort", channel=thread)
    assert (await aborted.wait_response(timeout=TIMEOUT)).response_type == DEFERRED_MESSAGE
    await aborted.wait_message(lambda m: "abort" in m.content, timeout=TIMEOUT)
    assert any(call.endswith("/abort") for call in proxy.delayed)
    assert any(call.endswith("/reply") for call in proxy.delayed)
