"""A reply in a Sync thread while the terminal's own `opencode` process runs the turn.

The shared server does not know that process is busy: sending the reply there would start
a second, concurrent turn on the same session. kimaki holds it (it cannot interrupt
another process, and says so once) and sends it when the terminal's turn ends.
"""

from __future__ import annotations

import asyncio

from kimaki.store import ThreadID
from scripted_model import ScriptedModel, text
from tests.bot.test_sessions import marked_queued, unmarked, user_texts
from tests.support.kimaki_app import StartKimaki
from tests.support.world import World, opencode_run
from tests.sync.test_sync import FAST, TIMEOUT, bot_lines, sync_thread, wait_text


async def test_a_reply_while_the_terminal_process_runs_its_turn_waits_for_it(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, world: World
) -> None:
    running = await start_kimaki(**FAST)
    owner = running.twin.user(running.owner)
    gate = asyncio.Event()
    prompt = f"tb-first-{running.project.name}"
    scripted_model.add_rule(prompt, [text("The terminal's answer.", gate=gate)], title="Busy")
    scripted_model.add_rule("tb-second", [text("The phone's answer.")])
    terminal = asyncio.create_task(opencode_run(world, running.project, [prompt], timeout=240))
    try:
        await scripted_model.wait_for_request(
            lambda r: r.kind == "turn" and prompt in r.prompt and r.paused.is_set(),
            timeout=TIMEOUT,
        )
        thread = await sync_thread(running)
        record = running.app.store.threads.get(ThreadID(thread.id))
        assert record is not None
        second = owner.send(thread, "tb-second from the phone")
        await marked_queued(running, second)
        third = owner.send(thread, "!now tb-third, sooner please")
        await marked_queued(running, third)  # another process: no interrupt, it waits too
        assert await user_texts(running, record.session_id) == [prompt]
    finally:
        gate.set()
    result = await terminal
    assert result.returncode == 0, result.stderr
    await wait_text(running, thread, "The phone's answer.")
    await unmarked(running, second)
    await unmarked(running, third)
    assert await user_texts(running, record.session_id) == [
        prompt,
        "tb-second from the phonetb-third, sooner please",
    ]
    transcript = "\n".join(bot_lines(running, thread))
    assert transcript.count("another OpenCode process") == 1, "said once for the turn"
    assert transcript.index("The terminal's answer.") < transcript.index("The phone's answer.")
    assert scripted_model.overlaps_of(record.session_id) == []
