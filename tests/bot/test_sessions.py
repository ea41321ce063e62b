"""Discord-originated sessions end to end: twin + discord.py + real OpenCode + scripted model."""

from __future__ import annotations

from discord_twin.state import Channel
from scripted_model import ScriptedModel, bash, text
from tests.bot.conftest import Running, StartKimaki

TIMEOUT = 60


async def thread_of_prompt(running: Running, prompt: str) -> Channel:
    twin = running.twin
    since = twin.cursor()
    twin.user(running.owner).send(running.channel, prompt)
    return await twin.wait_for_thread(parent=running.channel, since=since, timeout=TIMEOUT)


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
    await twin.wait_for_message(lambda m: m.content == "⬥ First answer.", channel=thread)
    since = twin.cursor()
    twin.user(running.owner).send(thread, "xi-second question")
    await twin.wait_for_message(
        lambda m: m.content == "⬥ Second answer.", channel=thread, since=since, timeout=TIMEOUT
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
