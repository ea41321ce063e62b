"""Slash commands and rendering details, end to end."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from discord_twin.state import Channel
from kimaki.ids import Verbosity
from kimaki.opencode.models import Message, TextPart
from kimaki.opencode.prompt import TextInput
from kimaki.origin import parse_tag
from kimaki.store import ChannelID, ThreadID, ThreadRecord
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.transcript import FOOTER, bot_lines
from tests.support.waiting import eventually
from tests.support.world import World

TIMEOUT = 60


async def open_thread(running: Running, prompt: str) -> Channel:
    thread, _ = await running.open_thread(prompt)
    return thread


async def test_session_id_shows_the_terminal_command(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    scripted_model.add_rule("tau-id", [text("ok")])
    thread = await open_thread(running, "tau-id hello")
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None
    handle = running.twin.user(running.owner).slash("session-id", channel=thread)
    await handle.wait_response(timeout=TIMEOUT)
    reply = handle.message()
    assert reply is not None
    assert record.session_id in reply.content
    assert f"cd {running.project} && opencode --session {record.session_id}" in reply.content


async def test_verbosity_command_sets_the_channel_level(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    handle = running.twin.user(running.owner).slash(
        "verbosity", {"level": "tools_and_text"}, channel=running.channel
    )
    await handle.wait_response(timeout=TIMEOUT)
    level = running.app.store.channel_settings.verbosity(ChannelID(running.channel.id))
    assert level is Verbosity.TOOLS_AND_TEXT
    assert "tools_and_text" in handle.message().content  # type: ignore[union-attr]


async def test_abort_stops_a_slow_turn(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    gate = asyncio.Event()
    scripted_model.add_rule("upsilon-slow", [text("never finished", gate=gate)])
    try:
        thread = await open_thread(running, "upsilon-slow start")
        await scripted_model.wait_for_request(lambda r: "upsilon-slow" in r.prompt, timeout=TIMEOUT)
        since = running.twin.cursor()
        handle = running.twin.user(running.owner).slash("abort", channel=thread)
        await handle.wait_response(timeout=TIMEOUT)
        await running.twin.wait_for_message(
            lambda m: "⬦ aborted" in m.content,
            channel=thread,
            since=since,
            timeout=TIMEOUT,
            edits=True,
        )
    finally:
        gate.set()
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None
    status = await running.app.opencode.status(str(running.project))
    assert record.session_id not in status


async def test_resume_binds_an_existing_session_and_posts_its_history(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    client = running.app.opencode
    directory = str(running.project)
    scripted_model.add_rule("phi-old", [text("An answer from before.")])
    session = await client.create_session(directory, title="Earlier work")
    await client.prompt_async(session.id, directory, [TextInput("phi-old question")])

    async def answered() -> bool:
        page = await client.messages(session.id, directory)
        return any(m.info.ends_turn for m in page.messages)

    await eventually(answered, what="the earlier session's reply")

    since = running.twin.cursor()
    handle = running.twin.user(running.owner).slash(
        "resume", {"session": session.id}, channel=running.channel
    )
    await handle.wait_response(timeout=TIMEOUT)
    thread = await running.twin.wait_for_thread(
        parent=running.channel, since=since, timeout=TIMEOUT
    )
    assert thread.name == "Earlier work"
    await running.twin.wait_for_message(
        lambda m: "An answer from before." in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    await running.app.outbox.flush(ThreadID(thread.id))
    contents = [m.content for m in running.twin.messages(thread)]
    # History is posted in as few messages as fit: prompt, answer and footer share one.
    assert len(contents) == 1
    assert bot_lines(running.twin, thread) == [
        "» **user:** phi-old question",
        "⬥ An answer from before.",
        FOOTER,
    ]

    again = running.twin.user(running.owner).slash(
        "resume", {"session": session.id}, channel=running.channel
    )
    answer = await again.wait_message(lambda m: "already" in m.content, timeout=TIMEOUT)
    assert "already has a thread" in answer.content


async def test_a_long_reply_splits_into_valid_messages_with_balanced_fences(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    code = "\n".join(
        f"line_{n} = {n} * {n}  # some padding to make the line longer" for n in range(150)
    )
    answer = f"Here is the code:\n```python\n{code}\n```\nThat is all."
    scripted_model.add_rule("chi-long", [text(answer)])
    thread = await open_thread(running, "chi-long please")
    await running.twin.wait_for_message(
        lambda m: "That is all." in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    replies = [m.content for m in running.twin.messages(thread)]
    assert len(replies) >= 4, replies
    for content in replies:
        assert len(content) <= 2000
        assert content.count("```") % 2 == 0, content[:80]
    opened = [c for c in replies if "```python" in c]
    assert len(opened) == len(replies), f"each chunk reopens the fence: {replies}"
    joined = "\n".join(replies)
    for n in (0, 75, 149):
        assert f"line_{n} = {n} * {n}" in joined


async def test_the_stored_prompt_carries_the_escaped_discord_user_tag(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin = running.twin
    assert twin.seed is not None
    odd = twin.create_user("odd", global_name='Ann "the <coder>" & co')
    twin.add_member(twin.seed.guild, odd, roles=[twin.create_role(twin.seed.guild, "Kimaki")])
    scripted_model.add_rule("psi-tag", [text("tagged")])
    since = twin.cursor()
    sent = twin.user(odd).send(running.channel, "psi-tag hello")
    thread = await twin.wait_for_thread(parent=running.channel, since=since, timeout=TIMEOUT)

    async def bound() -> ThreadRecord | None:
        return running.app.store.threads.get(ThreadID(thread.id))

    record = await eventually(bound, what="the thread's session binding")

    async def prompted() -> Message | None:
        page = await running.app.opencode.messages(record.session_id, str(running.project))
        return page.messages[0] if page.messages else None

    user = await eventually(prompted, what="the prompt in OpenCode")
    (synthetic,) = [p for p in user.parts if isinstance(p, TextPart) and p.synthetic]
    assert "&quot;the &lt;coder&gt;&quot; &amp; co" in synthetic.text
    assert re.fullmatch(r"<discord-user [^\n]*/>", synthetic.text)
    origin = parse_tag(synthetic.text)
    assert origin is not None
    assert origin.name == 'Ann "the <coder>" & co'
    assert origin.user_id == str(odd.id) and origin.message_id == str(sent.id)
    assert origin.thread_id == str(thread.id)
    assert user.text() == "psi-tag hello"


async def test_add_project_and_remove_project_slash_commands(
    start_kimaki: StartKimaki, make_project: Callable[[], Path], world: World
) -> None:
    # Test projects live outside the home: let Discord add projects where they are.
    running = await start_kimaki(KIMAKI_PROJECTS_ROOT=str(world.root / "projects"))
    twin, owner = running.twin, running.owner
    new_project = make_project()

    root = str(world.root / "projects") + "/"

    async def known() -> set[str]:  # what autocomplete offers: existing dirs under the root
        projects = await running.app.opencode.projects()
        return {p.worktree for p in projects if p.worktree.startswith(root)}

    def present(paths: set[str]) -> set[str]:  # other tests delete their projects meanwhile
        return {p for p in paths if Path(p).is_dir()}

    def short(paths: set[str]) -> set[str]:
        return {p for p in paths if len(p) <= 100}

    # OpenCode may learn of the new kimaki's project meanwhile (its start touches it).
    before = await known()
    handle = twin.user(owner).autocomplete(
        "add-project", {"path": ""}, "path", channel=running.channel
    )
    await handle.wait_response(timeout=TIMEOUT)
    offered = {c["value"] for c in handle.choices or []}
    assert present(short(before)) <= offered <= await known()

    added = twin.user(owner).slash(
        "add-project", {"path": str(new_project)}, channel=running.channel
    )
    reply = await added.wait_message(lambda m: "added" in m.content, timeout=TIMEOUT)
    channel_id = int(reply.content.split("<#")[1].split(">")[0])
    assert running.app.store.projects.get(ChannelID(channel_id)) is not None
    again = twin.user(owner).slash(
        "add-project", {"path": str(new_project)}, channel=running.channel
    )
    refused = await again.wait_message(lambda m: "already registered" in m.content, timeout=TIMEOUT)
    assert refused

    channel = twin.channel(channel_id)
    removed = twin.user(owner).slash("remove-project", channel=channel)
    await removed.wait_response(timeout=TIMEOUT)
    assert running.app.store.projects.get(ChannelID(channel_id)) is None
    assert "forgot" in removed.message().content  # type: ignore[union-attr]


async def test_a_project_whose_directory_vanished_gets_a_clear_reply(
    start_kimaki: StartKimaki,
) -> None:
    running = await start_kimaki()
    shutil.rmtree(running.project)
    sent = running.twin.user(running.owner).send(running.channel, "anything")
    reply = await running.twin.wait_for_message(
        lambda m: m.reference_message_id == sent.id, channel=running.channel, timeout=TIMEOUT
    )
    assert "no longer exists" in reply.content
    assert running.twin.threads(running.channel) == []
