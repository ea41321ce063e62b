"""`kimaki send` end to end: the CLI posts as the bot, the in-process kimaki runs it.

Twin + real discord.py + the shared real OpenCode + the scripted model; the command
runs in-process (`tests/support/cli_run.py`), the console script itself in the
process tests.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from discord_twin.state import Channel, Message
from kimaki.origin import message_origin
from kimaki.sends.format import ANSWER_FILE, FOOTER, PROMPT_FILE
from kimaki.store import DiscordMessageID, SendState, ThreadID
from scripted_model import ScriptedModel, text
from tests.support.cli_run import cli_env, run_cli
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60
HOST = socket.gethostname()


def bot_texts(running: Running, channel: Channel) -> list[str]:
    assert running.twin.seed is not None
    bot = running.twin.seed.bot.id
    return [m.content for m in running.twin.messages(channel) if m.author_id == bot]


def starter(running: Running, message_id: int) -> Message:
    return next(m for m in running.twin.messages(running.channel) if m.id == message_id)


def outcome_field(message: Message) -> str | None:
    (embed,) = message.embeds
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == "outcome"), None)


async def send_state(running: Running, message_id: int) -> SendState:
    async def finished() -> SendState | None:
        record = running.app.store.sends.get(DiscordMessageID(message_id))
        return record.state if record is not None and record.state.finished else None

    return await eventually(finished, timeout=TIMEOUT, what=f"send {message_id} to finish")


async def test_send_project_wait_prints_the_answer_and_the_thread_holds_it_once(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("snd-alpha", [text("Alpha answer, from the agent.")])
    env = cli_env(running.twin, running.app.config.data_dir)
    args = ["send", "--project", str(running.project), "--prompt", "snd-alpha: do it"]

    result = await run_cli([*args, "--wait", "--timeout", "60"], env)

    assert (result.code, result.err) == (0, ""), result
    assert result.out == "Alpha answer, from the agent.\n"
    (record,) = running.app.store.sends.in_state(SendState.ANSWERED)
    thread = running.twin.channel(record.message_id)  # started from the send's message
    assert thread is not None and "snd-alpha: do it" in thread.name
    await running.twin.wait_for_message(
        lambda m: "Alpha answer" in m.content, channel=thread, timeout=TIMEOUT
    )
    await running.app.bridges.settle()
    await running.app.outbox.flush(ThreadID(thread.id))
    assert bot_texts(running, thread).count("⬥ Alpha answer, from the agent.") == 1
    # The starter says where it came from; once shown, the outcome and the answer file.
    first = starter(running, record.message_id)
    assert first.content == "snd-alpha: do it"
    assert first.embeds[0]["footer"]["text"] == FOOTER
    assert f"from `kimaki send` on **{HOST}**" in first.embeds[0]["description"]

    async def shown() -> bool:
        message = starter(running, record.message_id)
        return outcome_field(message) == "✓ answered" and [
            a.filename for a in message.attachments
        ] == [ANSWER_FILE]

    await eventually(shown, timeout=TIMEOUT, what="the outcome on the starter message")
    # The prompt went the way a person's does: tagged, as the send, in that thread.
    messages = await running.app.opencode.all_messages(record.session_id, str(running.project))
    (prompt,) = [m for m in messages if m.info.role == "user"]
    origin = message_origin(prompt)
    assert origin is not None and origin.message_id == str(record.message_id)
    assert origin.name == f"kimaki send ({HOST})" and origin.thread_id == str(thread.id)

    # Without --wait: the message id on the last line; a bad target is one line, exit 1.
    plain = await run_cli([*args[:3], "--prompt", "snd-alpha again"], env)
    assert plain.code == 0 and plain.out.splitlines()[-1].isdigit(), plain
    assert await send_state(running, int(plain.out.split()[-1])) is SendState.ANSWERED
    missing = await run_cli(["send", "--project", "/nonexistent/dir", "--prompt", "x"], env)
    assert missing.code == 1 and missing.err.count("\n") == 1 and "does not exist" in missing.err
