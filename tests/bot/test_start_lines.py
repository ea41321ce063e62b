"""What a running kimaki says when Discord closes the door: one line, naming the fix.

The `kimaki` process against the twin, as in test_process.py. Gateway close code 4004
(the token was reset) and 4014 (the Message Content intent was switched off) each end
kimaki with one ERROR line that says what to do, and no traceback; and no start says
anything about voice, which kimaki does not have.
"""

from __future__ import annotations

from pathlib import Path

from discord_twin import Twin
from tests.bot.test_process import READY, TIMEOUT, assert_nothing_left, assert_one_clear_error
from tests.support.kimaki_process import kimaki, kimaki_env
from tests.support.world import World


async def test_a_token_reset_while_running_is_one_line_naming_the_fix(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    assert twin.seed is not None
    async with kimaki(kimaki_env(world, twin), tmp_path / "data") as run:
        await run.wait_for_line(READY, timeout=TIMEOUT)
        twin.reset_token(twin.seed.app)  # live connections close with 4004
        code = await run.wait_exit(TIMEOUT)
    assert code == 1, run.output
    line = assert_one_clear_error(run, "4004", "Reset Token", "kimaki setup token")
    assert "KIMAKI_BOT_TOKEN" in line
    assert "voice" not in run.output.lower(), run.output
    assert_nothing_left(run)


async def test_the_intent_switched_off_while_running_is_one_line_naming_the_fix(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    assert twin.seed is not None
    async with kimaki(kimaki_env(world, twin), tmp_path / "data") as run:
        await run.wait_for_line(READY, timeout=TIMEOUT)
        twin.update_application(twin.seed.app, message_content=False)
        twin.gateway.invalidate_sessions(resumable=False)  # the next IDENTIFY gets 4014
        code = await run.wait_exit(TIMEOUT)
    assert code == 1, run.output
    assert_one_clear_error(run, "4014", "Message Content", "Developer Portal", "Bot →")
    assert "voice" not in run.output.lower(), run.output
    assert_nothing_left(run)
