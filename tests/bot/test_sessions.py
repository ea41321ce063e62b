"""Discord-originated sessions end to end: twin + discord.py + real OpenCode + scripted model."""

from __future__ import annotations

import asyncio

from discord_twin.state import Channel
from discord_twin.state import Message as TwinMessage
from kimaki.opencode.models import SessionID, TextPart
from kimaki.opencode.prompt import TextInput
from kimaki.store import ThreadID
from kimaki.turns import QUEUED_EMOJI
from scripted_model import ScriptedModel, bash, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60


async def thread_of_prompt(running: Running, prompt: str) -> Channel:
    thread, _ = await running.open_thread(prompt)
    return thread


async def test_a_message_opens_a_thread_and_the_reply_streams_into_it(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("nu-hello", [text("Hello from OpenCode via kimaki.")])
    thread = await thread_of_prompt(running, "nu-hello: please greet me")
    assert thread.name == "nu-hello: please greet me"

    reply = await running.twin.wait_for_message(
        lambda m: "Hello from OpenCode" in m.content, channel=thread, timeout=TIMEOUT
    )
    assert reply.content == "⬥ Hello from OpenCode via kimaki."
    assert reply.author_id == running.twin.seed.bot.id  # type: ignore[union-attr]


async def test_a_follow_up_continues_the_same_session(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("xi-first", [text("First answer.")])
    scripted_model.add_rule("xi-second", [text("Second answer.")])
    thread = await thread_of_prompt(running, "xi-first question")
    twin = running.twin
    await twin.wait_for_message(
        lambda m: "⬥ First answer." in m.content, channel=thread, timeout=TIMEOUT
    )
    since = twin.cursor()
    twin.user(running.owner).send(thread, "xi-second question")
    await twin.wait_for_message(
        lambda m: "⬥ Second answer." in m.content, channel=thread, since=since, timeout=TIMEOUT
    )
    (record,) = [r for r in running.app.store.threads.in_channel(running.channel.id)]
    messages = await running.app.opencode.all_messages(record.session_id, str(running.project))
    assert [m.text() for m in messages if m.info.role == "user"] == [
        "xi-first question",
        "xi-second question",
    ]


async def test_bash_shows_at_default_verbosity_and_not_at_text_only(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("omicron-bash", [bash("echo omicron"), text("Ran echo.")])
    thread = await thread_of_prompt(running, "omicron-bash run it")
    twin = running.twin
    await twin.wait_for_message(lambda m: "Ran echo." in m.content, channel=thread, timeout=TIMEOUT)
    transcript = "\n".join(m.content for m in twin.messages(thread))
    assert "┣ bash" in transcript and "echo omicron" in transcript

    running.app.store.channel_settings.set_verbosity(
        running.channel.id,  # type: ignore[arg-type]
        __import__("kimaki.config", fromlist=["Verbosity"]).Verbosity.TEXT_ONLY,
    )
    quiet = await thread_of_prompt(running, "omicron-bash again")
    await twin.wait_for_message(lambda m: "Ran echo." in m.content, channel=quiet, timeout=TIMEOUT)
    contents = [m.content for m in twin.messages(quiet) if m.author_id != running.owner.id]
    assert contents == ["⬥ Ran echo."]


async def test_what_happened_while_the_event_stream_was_down_is_posted_once(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin = running.twin
    scripted_model.add_rule("kappa-before", [text("Before the outage.")])
    scripted_model.add_rule(
        "kappa-during", [bash("echo during"), text("Answered while the stream was down.")]
    )
    thread = await thread_of_prompt(running, "kappa-before hello")
    await twin.wait_for_message(
        lambda m: "Before the outage." in m.content, channel=thread, timeout=TIMEOUT
    )

    await running.app.events.stop()  # the stream drops; OpenCode keeps working
    record = running.app.store.threads.get(thread.id)  # type: ignore[arg-type]
    assert record is not None
    await running.app.opencode.prompt_async(
        record.session_id, str(running.project), [TextInput("kappa-during, from a terminal")]
    )

    async def turn_done() -> bool:
        page = await running.app.opencode.messages(record.session_id, str(running.project))
        asked = any("kappa-during" in m.text() for m in page.messages if m.info.role == "user")
        return asked and page.messages[-1].info.ends_turn

    await eventually(turn_done, what="the turn during the outage")
    running.app.events.start()  # reconnects: subscribers get Resync("reconnected")
    await twin.wait_for_message(
        lambda m: "Answered while the stream was down." in m.content,
        channel=thread,
        timeout=TIMEOUT,
    )
    await running.app.bridges.settle()
    await running.app.outbox.flush(record.thread_id)
    contents = [m.content for m in twin.messages(thread) if m.author_id != running.owner.id]
    joined = "\n".join(contents)
    assert joined.count("Before the outage.") == 1
    assert joined.count("» **user:** kappa-during, from a terminal") == 1
    assert joined.count("Answered while the stream was down.") == 1
    assert joined.count("┣ bash") == 1


async def answer_streaming(running: Running, session_id: SessionID) -> bool:
    """The newest assistant message has a text part that has started but not finished."""
    page = await running.app.opencode.messages(session_id, str(running.project))
    newest = page.messages[-1] if page.messages else None
    return (
        newest is not None
        and newest.info.role == "assistant"
        and any(isinstance(p, TextPart) and not p.is_finished for p in newest.parts)
    )


async def reconcile_with_follow_up(running: Running, thread_id: int, words: str) -> None:
    """Once the follow-up is stored, make the thread's bridge look at the session while the
    answer still streams (what any wake in that window does)."""
    record = running.app.store.threads.get(ThreadID(thread_id))
    assert record is not None

    async def stored() -> bool:
        page = await running.app.opencode.messages(record.session_id, str(record.directory))
        return any(words in m.text() for m in page.messages)

    await eventually(stored, what="the follow-up stored mid-answer")
    await running.app.bridges.for_record(record).reconcile()


async def marked_queued(running: Running, message: TwinMessage) -> None:
    """kimaki put its "queued" reaction on `message`."""
    bot = running.twin.seed.bot.id  # type: ignore[union-attr]
    await running.twin.wait_for_event(
        ("reaction_add",),
        lambda e: e[0].id == message.id and e[1] == QUEUED_EMOJI and e[2] == bot,
        timeout=TIMEOUT,
    )


async def unmarked(running: Running, message: TwinMessage) -> None:
    """kimaki took its "queued" reaction off `message` (it was sent, or dropped)."""
    bot = running.twin.seed.bot.id  # type: ignore[union-attr]
    await running.twin.wait_for_event(
        ("reaction_remove",),
        lambda e: e[0].id == message.id and e[1] == QUEUED_EMOJI and e[2] == bot,
        timeout=TIMEOUT,
    )


async def user_texts(running: Running, session_id: SessionID) -> list[str]:
    """What the session's prompts said, in OpenCode's order."""
    messages = await running.app.opencode.all_messages(session_id, str(running.project))
    return [m.text() for m in messages if m.info.role == "user"]


async def test_a_follow_up_written_mid_answer_waits_and_both_answers_come_in_order(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """The first answer was once dropped when a follow-up arrived before it finished; now
    the follow-up waits in kimaki's queue and never starts a second, concurrent turn."""
    running = await start_kimaki()
    twin = running.twin
    gate = asyncio.Event()
    scripted_model.add_rule("mid-first", [text("The first answer, finished late.", gate=gate)])
    scripted_model.add_rule("mid-second", [text("The second answer.")])
    try:
        thread, record = await running.open_thread("mid-first question")
        await eventually(
            lambda: answer_streaming(running, record.session_id), what="the answer streaming"
        )
        follow_up = twin.user(running.owner).send(thread, "mid-second also this")
        await marked_queued(running, follow_up)
        assert await user_texts(running, record.session_id) == ["mid-first question"]
    finally:
        gate.set()
    await twin.wait_for_message(
        lambda m: "The second answer." in m.content, channel=thread, timeout=TIMEOUT
    )
    await unmarked(running, follow_up)
    bot = twin.seed.bot.id  # type: ignore[union-attr]
    said = [m.content for m in twin.messages(thread) if m.author_id == bot]
    answers = [line for m in said for line in m.split("\n") if line.startswith("⬥")]
    assert answers == ["⬥ The first answer, finished late.", "⬥ The second answer."]
    assert await user_texts(running, record.session_id) == [
        "mid-first question",
        "mid-second also this",
    ]
    assert scripted_model.overlaps_of(record.session_id) == []
