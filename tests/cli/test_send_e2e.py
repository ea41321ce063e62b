"""`kimaki send` end to end: the CLI posts as the bot, the in-process kimaki runs it.

Twin + real discord.py + the shared real OpenCode + the scripted model; the command
runs in-process (`tests/support/cli_run.py`), the console script itself in the
process tests.
"""

from __future__ import annotations

import asyncio
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from discord_twin.state import Channel, Message
from kimaki.origin import message_origin
from kimaki.sends.format import ANSWER_FILE, FOOTER, PROMPT_FILE
from kimaki.store import DiscordMessageID, QueueState, SendState, ThreadID
from scripted_model import ScriptedModel, auth_error, text, tool_call
from scripted_model.config import PROVIDER_ID, VISION_MODEL_ID
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

    chosen = ["--agent", "plan", "--model", f"{PROVIDER_ID}/{VISION_MODEL_ID}"]
    result = await run_cli([*args, *chosen, "--wait", "--timeout", "60"], env)

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
    assert record.session_id is not None
    messages = await running.app.opencode.all_messages(record.session_id, str(running.project))
    (prompt,) = [m for m in messages if m.info.role == "user"]
    origin = message_origin(prompt)
    assert origin is not None and origin.message_id == str(record.message_id)
    assert origin.name == f"kimaki send ({HOST})" and origin.thread_id == str(thread.id)
    assert (prompt.info.agent, prompt.info.model) == ("plan", (PROVIDER_ID, VISION_MODEL_ID))

    # Without --wait: the message id on the last line; a bad target is one line, exit 1.
    plain = await run_cli([*args[:3], "--prompt", "snd-alpha again"], env)
    assert plain.code == 0 and plain.out.splitlines()[-1].isdigit(), plain
    assert await send_state(running, int(plain.out.split()[-1])) is SendState.ANSWERED
    missing = await run_cli(["send", "--project", "/nonexistent/dir", "--prompt", "x"], env)
    assert missing.code == 1 and missing.err.count("\n") == 1 and "does not exist" in missing.err

    # kimaki dies after taking the send and prompting, before the ledger says so: the
    # next start resumes it, and the prompt path does not send the prompt twice.
    running.app.store.db.execute(
        "UPDATE sends SET state = 'claimed', thread_id = NULL, session_id = NULL,"
        " result = NULL, finished_at = NULL, reported = 0 WHERE message_id = ?",
        (record.message_id,),
    )
    running = await start_kimaki(restart=running)
    assert await send_state(running, record.message_id) is SendState.ANSWERED
    await running.app.bridges.settle()
    messages = await running.app.opencode.all_messages(record.session_id, str(running.project))
    assert [m.info.role for m in messages].count("user") == 1
    turns = [r for r in scripted_model.turn_requests() if "snd-alpha: do it" in r.prompt]
    assert len(turns) == 1


async def test_send_thread_queues_behind_a_busy_turn_notify_only_files_and_a_long_prompt(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    running = await start_kimaki()
    twin = running.twin
    gate = asyncio.Event()
    scripted_model.add_rule("snd-busy", [text("Busy turn done.").held(gate)])
    scripted_model.add_rule("snd-queued", [text("Queued send answered.")])
    thread, record = await running.open_thread("snd-busy: a long job")
    await scripted_model.wait_for_request(lambda r: "snd-busy" in r.prompt, timeout=TIMEOUT)
    env = cli_env(twin, running.app.config.data_dir)

    # A send into the busy thread waits its turn, like a person's message.
    queued = await run_cli(["send", "--thread", str(thread.id), "--prompt", "snd-queued"], env)
    assert queued.code == 0, queued
    queued_id = int(queued.out.split()[-1])

    async def taken() -> bool:
        sent = running.app.store.sends.get(DiscordMessageID(queued_id))
        return sent is not None and sent.state is SendState.PROMPTED

    await eventually(taken, timeout=TIMEOUT, what="the queued send to be taken")
    assert not any("Queued send answered" in t for t in bot_texts(running, thread))
    held = running.app.store.queued_prompts.by_source(str(queued_id))  # kimaki's own queue
    assert held is not None and held.state is QueueState.QUEUED
    # A queued send whose message is deleted is not sent, and the send says so.
    dropped = await run_cli(["send", "--thread", str(thread.id), "--prompt", "snd-gone"], env)
    dropped_id = int(dropped.out.split()[-1])

    async def held_too() -> bool:
        return running.app.store.queued_prompts.by_source(str(dropped_id)) is not None

    await eventually(held_too, timeout=TIMEOUT, what="the second send held")
    twin.user(running.owner).delete(next(m for m in twin.messages(thread) if m.id == dropped_id))
    gate.set()
    assert await send_state(running, queued_id) is SendState.ANSWERED
    assert await send_state(running, dropped_id) is SendState.FAILED
    gone = running.app.store.sends.get(DiscordMessageID(dropped_id))
    assert gone is not None and "left kimaki's queue unsent" in (gone.result or "")
    await twin.wait_for_message(
        lambda m: "Queued send answered." in m.content, channel=thread, timeout=TIMEOUT
    )
    transcript = "\n".join(bot_texts(running, thread))
    assert transcript.index("Busy turn done.") < transcript.index("Queued send answered.")
    assert scripted_model.overlaps_of(record.session_id) == []

    # --notify-only: posted in the thread, no run.
    turns = len(scripted_model.turn_requests())
    note = await run_cli(
        ["send", "--session", record.session_id, "--notify-only", "--prompt", "build is green"],
        env,
    )
    assert note.code == 0, note
    assert await send_state(running, int(note.out.split()[-1])) is SendState.NOTIFIED
    assert any(m.content == "build is green" for m in twin.messages(thread))
    assert len(scripted_model.turn_requests()) == turns

    # --file goes in as a Discord attachment does; a long prompt as prompt.md, whole.
    notes = tmp_path / "notes.txt"
    notes.write_text("the notes\n")
    tail = "snd-long-tail-marker"
    long_prompt = "snd-long: read this\n" + "x" * 2_500 + "\n" + tail
    sent = await run_cli(
        ["send", "--project", str(running.project), "--file", str(notes), "--wait"],
        env,
        stdin=long_prompt,
    )
    assert sent.code == 0, sent
    request = await scripted_model.wait_for_request(lambda r: tail in r.prompt, timeout=TIMEOUT)
    assert "snd-long: read this" in request.prompt and "notes.txt" in json.dumps(request.messages)
    starter_message = next(
        m for m in twin.messages(running.channel) if m.content.startswith("snd-long: read this")
    )
    assert len(starter_message.content) < 2_000 and PROMPT_FILE in starter_message.content
    names = [a.filename for a in starter_message.attachments]
    assert names[:2] == [PROMPT_FILE, "notes.txt"]


async def test_twenty_concurrent_sends_make_twenty_threads_each_answered_once(
    start_kimaki: StartKimaki,
) -> None:
    running = await start_kimaki()
    env = cli_env(running.twin, running.app.config.data_dir)
    prompts = [f"snd-many-{n:02d}" for n in range(20)]
    with ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        results = await asyncio.gather(
            *(
                run_cli(
                    ["send", "--project", str(running.project), "--prompt", p],
                    env,
                    capture=False,
                    pool=pool,
                )
                for p in prompts
            )
        )
    assert [r.code for r in results] == [0] * 20

    async def all_answered() -> bool:
        sends = running.app.store.sends.in_state(SendState.ANSWERED)
        return len(sends) == 20

    await eventually(all_answered, timeout=240, what="twenty answered sends")
    threads = [t for t in running.twin.threads(running.channel)]
    assert len(threads) == 20
    await running.app.bridges.settle()
    for thread in threads:
        await running.app.outbox.flush(ThreadID(thread.id))
    for prompt in prompts:
        (thread,) = [t for t in threads if prompt in starter(running, t.id).content]
        answers = [t for t in bot_texts(running, thread) if "ok:" in t]
        assert len(answers) == 1 and prompt in answers[0], (prompt, answers)


def ask_for_env_reads(project: Path) -> None:
    """Reading `.env` asks in this project (the last matching pattern wins)."""
    config = json.loads((project / "opencode.json").read_text())
    config["permission"] = {"*": "allow", "read": {"*": "allow", "*.env": "ask"}}
    (project / "opencode.json").write_text(json.dumps(config))
    (project / ".env").write_text("TOKEN=shh\n")


async def test_send_wait_says_in_one_line_when_the_turn_fails_a_permission_expires_or_time_is_up(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(KIMAKI_PERMISSION_TIMEOUT="0.02", prepare=ask_for_env_reads)
    env = cli_env(running.twin, running.app.config.data_dir)
    gate = asyncio.Event()
    scripted_model.add_rule("snd-slow", [text("Slow, at last.").held(gate)])
    scripted_model.add_rule("snd-fail", [auth_error()])
    secret = str(running.project / ".env")
    scripted_model.add_rule("snd-perm", [tool_call("read", filePath=secret), text("Moved on.")])

    async def wait_for(prompt: str, *extra: str) -> tuple[int, str]:
        result = await run_cli(
            ["send", "--project", str(running.project), "--prompt", prompt, "--wait", *extra],
            env,
        )
        assert result.out == "" and result.err.count("\n") == 1, result
        return result.code, result.err

    code, err = await wait_for("snd-slow", "--timeout", "1")
    assert code == 124 and "no answer within 1s" in err
    gate.set()
    code, err = await wait_for("snd-fail")
    assert code == 1 and "the turn failed" in err
    code, err = await wait_for("snd-perm")
    assert code == 1 and "was not answered in time" in err
