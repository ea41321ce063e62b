"""/new-session, /context-usage, /share, /compact, /diff, /last-sessions, shell commands and
OpenCode's own commands end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from discord_twin.state import Channel
from kimaki.opencode.models import FilePart, Message, SessionID
from kimaki.opencode.prompt import TextInput
from kimaki.prompt_options import Source
from kimaki.store import ChannelID, GuildID, ThreadID
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.slash import choices, options_of, pick, slash
from tests.support.waiting import eventually
from tests.support.world import commit_all

TIMEOUT = 60


def with_command(name: str, template: str) -> Callable[[Path], None]:
    def prepare(project: Path) -> None:
        config_file = project / "opencode.json"
        config = json.loads(config_file.read_text())
        config["command"] = {name: {"template": template, "description": f"{name}s"}}
        config_file.write_text(json.dumps(config))
        commit_all(project)

    return prepare


def born_as(running: Running, thread: Channel) -> str:
    """The name `thread` was created with: OpenCode titles a new session from its first
    prompt a moment later, and kimaki then renames the thread, so its current name races."""
    event = running.twin.events.find(("thread_create",), lambda t: t.id == thread.id)
    assert event is not None, f"no thread_create for {thread.id}"
    return str(event.data["name"])


async def user_messages(running: Running, session_id: SessionID) -> list[Message]:
    messages = await running.app.opencode.all_messages(session_id, str(running.project))
    return [m for m in messages if m.info.role == "user"]


async def idle(running: Running, session_id: SessionID) -> None:
    async def free() -> bool:
        return session_id not in await running.app.opencode.status(str(running.project))

    await eventually(free, what="the turn's end")


async def test_session_info_diff_and_opencode_commands(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, make_project: Callable[[str], Path]
) -> None:
    running = await start_kimaki(
        prepare=with_command("greet", "cmdc-greet says hello to $ARGUMENTS")
    )
    twin, channel, store = running.twin, running.channel, running.app.store
    assert twin.seed is not None

    async def offered() -> bool:  # OpenCode's first file search in a directory may be slow
        found = await choices(running, "new-session", {"files": "READ"}, "files", channel=channel)
        return "README.md" in found

    await eventually(offered, what="README.md offered")
    scripted_model.add_rule("cmdc-new", [text("new session answer").with_usage(32_000, 1_000)])

    since = twin.cursor()
    started = await slash(
        running,
        "new-session",
        {"prompt": "cmdc-new look at the readme", "agent": "plan", "files": "README.md"},
        channel=channel,
    )
    thread = await twin.wait_for_thread(parent=channel, since=since, timeout=TIMEOUT)
    assert f"started a session in <#{thread.id}> (agent `plan`)" in started.content
    assert born_as(running, thread) == "cmdc-new look at the readme"
    await twin.wait_for_message(
        lambda m: "new session answer" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )
    record = store.threads.get(ThreadID(thread.id))
    assert record is not None
    [user] = await user_messages(running, record.session_id)
    assert user.info.agent == "plan" and user.text() == "cmdc-new look at the readme"
    assert [p.filename for p in user.parts if isinstance(p, FilePart)] == ["README.md"]
    chosen = running.app.turns.options.chosen(record.session_id, record.channel_id)
    assert (chosen.agent, chosen.agent_source) == ("plan", Source.SESSION)
    outside = await slash(
        running, "new-session", {"prompt": "x", "files": "../etc"}, channel=channel
    )
    assert "`../etc` is not a file of this project" in outside.content

    typed = await choices(running, "model", {"model": "vision"}, "model", channel=thread)
    assert "scripted/scripted-vision" in typed
    await idle(running, record.session_id)  # the usage is stored when the step ends
    usage = await slash(running, "context-usage", channel=thread)
    assert "context: 33,000 tokens of 128,000 (25.8%) with `scripted/scripted-1`" in usage.content
    shared = await slash(running, "share", channel=thread)
    assert "sharing is turned off on this machine" in shared.content
    compacted = await slash(running, "compact", channel=thread)
    assert "compacted the session" in compacted.content
    assert await scripted_model.wait_for_request(
        lambda r: r.kind == "summary" and r.session_id == record.session_id, timeout=TIMEOUT
    )

    (running.project / "cmdc.txt").write_text("hello\n")
    diff = await slash(running, "diff", channel=thread)
    assert diff.content.startswith("⬦ 1 file changed, +1 −0")
    assert "`cmdc.txt` +1 −0 (added)" in diff.content
    [patch] = diff.attachments
    assert patch.filename == f"{running.project.name}.diff"
    assert b"+++ b/cmdc.txt" in patch.data and b"+hello" in patch.data

    # A session with no thread is offered for /resume.
    client = running.app.opencode
    orphan = await client.create_session(str(running.project), title="cmdc orphan")
    await client.prompt_async(orphan.id, str(running.project), [TextInput("cmdc-orphan hi")])

    async def answered() -> bool:
        return any(
            m.info.ends_turn
            for m in (await client.messages(orphan.id, str(running.project))).messages
        )

    await eventually(answered, what="the orphan session's answer")
    recent = await slash(running, "last-sessions", channel=thread)
    assert f"<#{thread.id}>" in recent.content
    assert f"no thread: /resume in <#{channel.id}>" in recent.content
    value = f"{channel.id}:{orphan.id}"
    assert value in options_of(recent, "kimaki:c:resume:")
    since = twin.cursor()
    resumed = await pick(running, recent, "kimaki:c:resume:", [value])
    orphan_thread = await twin.wait_for_thread(parent=channel, since=since, timeout=TIMEOUT)
    assert f"resumed `cmdc orphan` in <#{orphan_thread.id}>" in resumed.content

    # OpenCode's own command, in the session and from the channel.
    assert any(c.name == "greet-cmd" for c in twin.commands(twin.seed.guild))  # type: ignore[union-attr]
    scripted_model.add_rule("cmdc-greet", [text("greeted")])
    since = twin.cursor()
    ran = await slash(running, "greet-cmd", {"arguments": "Bob"}, channel=thread)
    assert "OpenCode's /greet goes to this session" in ran.content
    await twin.wait_for_message(
        lambda m: "greeted" in m.content, channel=thread, since=since, timeout=TIMEOUT, edits=True
    )
    assert (await user_messages(running, record.session_id))[
        -1
    ].text() == "cmdc-greet says hello to Bob"
    since = twin.cursor()
    from_channel = await slash(running, "greet-cmd", {"arguments": "Ann"}, channel=channel)
    cmd_thread = await twin.wait_for_thread(parent=channel, since=since, timeout=TIMEOUT)
    assert (
        born_as(running, cmd_thread) == "/greet Ann"
        and f"<#{cmd_thread.id}>" in from_channel.content
    )
    await twin.wait_for_message(
        lambda m: "greeted" in m.content, channel=cmd_thread, timeout=TIMEOUT, edits=True
    )

    # OpenCode's list changes (a project with another command): the server's commands follow,
    # and a read that finds nothing new registers nothing.
    guild = twin.seed.guild
    assert "customize-opencode-cmd" in {c.name for c in twin.commands(guild)}, "a skill"
    second = make_project("second")
    with_command("farewell", "cmdc-farewell to $ARGUMENTS")(second)
    second_channel = twin.create_channel(guild, "cmdc-second")
    store.projects.add(ChannelID(second_channel.id), GuildID(guild.id), second)
    catalog = running.app.parts.catalog
    assert await catalog.refresh()

    async def registered() -> bool:
        return "farewell-cmd" in {c.name for c in twin.commands(guild)}

    await eventually(registered, what="the new command registered")
    assert not await catalog.refresh()


async def test_shell_commands_run_here_and_only_for_people_with_rights(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin, channel = running.twin, running.channel
    assert twin.seed is not None
    scripted_model.add_rule("cmds-start", [text("ready")])
    thread, record = await running.open_thread("cmds-start")
    await twin.wait_for_message(
        lambda m: "ready" in m.content, channel=thread, timeout=TIMEOUT, edits=True
    )

    sent = twin.user(running.owner).send(thread, "!echo out; echo err >&2; pwd; exit 3")
    reply = await twin.wait_for_message(
        lambda m: m.reference_message_id == sent.id, channel=thread, timeout=TIMEOUT
    )
    assert "failed with exit code 3" in reply.content
    assert f"```\nout\nerr\n{running.project}\n```" in reply.content
    assert [m.text() for m in await user_messages(running, record.session_id)] == ["cmds-start"]

    threads_before = len(twin.threads(channel))
    long = twin.user(running.owner).send(channel, "!seq 1 3000")
    reply = await twin.wait_for_message(
        lambda m: m.reference_message_id == long.id, channel=channel, timeout=TIMEOUT
    )
    assert "exited 0; the output is attached" in reply.content
    [output] = reply.attachments
    assert output.filename == "output.txt" and output.data.splitlines()[-1] == b"3000"
    assert len(twin.threads(channel)) == threads_before, "a ! message starts no session"

    ran = await slash(
        running,
        "run-shell-command",
        {"command": "printf '%s' \"$KIMAKI_DATA_DIR\"; true"},
        channel=thread,
    )
    assert "exited 0, no output" in ran.content, "kimaki's variables are not passed on"

    stranger = twin.create_user("stranger")
    twin.add_member(twin.seed.guild, stranger)
    marker = running.project / "marker"
    refused = twin.user(stranger).send(channel, f"!touch {marker}")
    answer = await twin.wait_for_message(
        lambda m: m.reference_message_id == refused.id, channel=channel, timeout=TIMEOUT
    )
    assert "kimaki:" in answer.content and not marker.exists()
    handle = twin.user(stranger).slash(
        "run-shell-command", {"command": f"touch {marker}"}, channel=thread
    )
    await handle.wait_response(timeout=TIMEOUT)
    assert not marker.exists()
