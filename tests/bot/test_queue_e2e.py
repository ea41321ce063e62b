"""kimaki's queue end to end: messages held while a turn runs, edited, deleted, sent now,
cleared, and kept across a restart (twin + discord.py + real OpenCode + scripted model)."""

from __future__ import annotations

import asyncio

from discord_twin.state import Channel
from discord_twin.state import Message as TwinMessage
from kimaki.opencode.prompt import TextInput
from kimaki.store import ThreadRecord
from scripted_model import ScriptedModel, text
from tests.bot.test_sessions import marked_queued, unmarked, user_texts
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60


async def held_turn(
    running: Running, scripted_model: ScriptedModel, prompt: str, gate: asyncio.Event
) -> tuple[Channel, ThreadRecord]:
    """A thread whose first turn streams until `gate` is set."""
    scripted_model.add_rule(prompt, [text(f"Answer to {prompt}.", gate=gate)])
    thread, record = await running.open_thread(f"{prompt} go")
    await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and prompt in r.prompt and r.paused.is_set(), timeout=TIMEOUT
    )
    return thread, record


async def answered(running: Running, thread: Channel, words: str) -> TwinMessage:
    return await running.twin.wait_for_message(
        lambda m: words in m.content, channel=thread, timeout=TIMEOUT
    )


async def slash(running: Running, name: str, thread: Channel) -> TwinMessage:
    handle = running.twin.user(running.owner).slash(name, channel=thread)
    return await handle.wait_message(lambda m: m.content.startswith("⬦"), timeout=TIMEOUT)


async def test_held_messages_follow_edits_and_deletes_and_go_together(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    owner = running.twin.user(running.owner)
    gate = asyncio.Event()
    scripted_model.add_rule("qa-two", [text("Both held messages answered.")])
    try:
        thread, record = await held_turn(running, scripted_model, "qa-first", gate)
        two = owner.send(thread, "qa-two as written")
        three = owner.send(thread, "qa-three, deleted later")
        four = owner.send(thread, "qa-four too")
        for message in (two, three, four):
            await marked_queued(running, message)
        owner.edit(two, "qa-two, edited")
        owner.delete(three)

        async def queue_shows_the_edit() -> TwinMessage | None:
            listing = await slash(running, "queue", thread)
            return listing if "qa-two, edited" in listing.content else None

        listing = await eventually(queue_shows_the_edit, what="/queue with the edit")
        assert "qa-three" not in listing.content and "qa-four too" in listing.content
        buttons = [c["label"] for row in listing.components for c in row["components"]]
        assert buttons == ["Send #1 now", "Send #2 now"]
        assert await user_texts(running, record.session_id) == ["qa-first go"]
    finally:
        gate.set()
    await answered(running, thread, "Answer to qa-first.")
    await answered(running, thread, "Both held messages answered.")
    await unmarked(running, two)
    await unmarked(running, four)
    assert await user_texts(running, record.session_id) == [
        "qa-first go",
        "qa-two, editedqa-four too",  # one prompt: each message its own part, in order
    ]
    assert scripted_model.overlaps_of(record.session_id) == []
    assert (await slash(running, "queue", thread)).content == "⬦ nothing is queued in this thread"

    # A turn another client of the shared server runs (an attached TUI) holds messages too.
    other = asyncio.Event()
    scripted_model.add_rule("qa-tui", [text("The other client's answer.", gate=other)])
    scripted_model.add_rule("qa-after", [text("Answered after the other client.")])
    directory = str(running.project)
    await running.app.opencode.prompt_async(
        record.session_id, directory, [TextInput("qa-tui from a terminal UI")]
    )
    try:
        await scripted_model.wait_for_request(
            lambda r: "qa-tui" in r.prompt and r.paused.is_set(), timeout=TIMEOUT
        )
        after = owner.send(thread, "qa-after that")
        await marked_queued(running, after)
        assert (await user_texts(running, record.session_id))[-1] == "qa-tui from a terminal UI"
    finally:
        other.set()
    await answered(running, thread, "Answered after the other client.")
    await unmarked(running, after)
    assert scripted_model.overlaps_of(record.session_id) == []


async def test_send_now_and_the_now_prefix_interrupt_the_running_turn(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    owner = running.twin.user(running.owner)
    gate = asyncio.Event()  # never set: both turns are cut short by interrupts
    scripted_model.add_rule("qb-two", [text("Sent now, answered.")])
    scripted_model.add_rule("qb-three", [text("Held again.", gate=gate)])
    scripted_model.add_rule("qb-four", [text("Interrupted by the prefix, answered.")])
    try:
        thread, record = await held_turn(running, scripted_model, "qb-first", gate)
        two = owner.send(thread, "qb-two please")
        await marked_queued(running, two)
        listing = await slash(running, "queue", thread)
        (button,) = [c["custom_id"] for row in listing.components for c in row["components"]]
        click = owner.click(listing, button)
        said = await click.wait_message(lambda m: m.content.startswith("⬦"), timeout=TIMEOUT)
        assert said.content == "⬦ sent now"
        await answered(running, thread, "interrupted the running turn")
        await answered(running, thread, "Sent now, answered.")
        await unmarked(running, two)

        owner.send(thread, "qb-three next")
        await scripted_model.wait_for_request(
            lambda r: "qb-three" in r.prompt and r.paused.is_set(), timeout=TIMEOUT
        )
        owner.send(thread, "!now qb-four instead")
        await answered(running, thread, "Interrupted by the prefix, answered.")
    finally:
        gate.set()
    assert await user_texts(running, record.session_id) == [
        "qb-first go",
        "qb-two please",
        "qb-three next",
        "qb-four instead",
    ]
    transcript = running.twin.render(thread)
    assert "Answer to qb-first." not in transcript and "Held again." not in transcript
    assert scripted_model.overlaps_of(record.session_id) == []


async def test_clear_queue_and_a_held_message_survives_a_restart(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    owner = running.twin.user(running.owner)
    gate = asyncio.Event()
    scripted_model.add_rule("qc-three", [text("Sent after the restart.")])
    try:
        thread, record = await held_turn(running, scripted_model, "qc-first", gate)
        two = owner.send(thread, "qc-two, cleared")
        await marked_queued(running, two)
        handle = owner.slash("clear-queue", channel=thread)
        cleared = await handle.wait_message(lambda m: "cleared" in m.content, timeout=TIMEOUT)
        assert cleared.content.endswith("cleared the queue: 1 message not sent")
        await unmarked(running, two)

        three = owner.send(thread, "qc-three, kept")
        await marked_queued(running, three)
        running = await start_kimaki(restart=running)
    finally:
        gate.set()
    await answered(running, thread, "Answer to qc-first.")
    await answered(running, thread, "Sent after the restart.")
    await unmarked(running, three)
    assert await user_texts(running, record.session_id) == ["qc-first go", "qc-three, kept"]
    assert scripted_model.overlaps_of(record.session_id) == []
