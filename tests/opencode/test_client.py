"""The OpenCode client against the real server and the scripted model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.events import EventStream, Resync
from kimaki.opencode.models import (
    Event,
    Message,
    PartUpdated,
    SessionID,
    SessionIdle,
    SessionStatusChanged,
    TextPart,
    ToolPart,
)
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer
from scripted_model import ScriptedModel, bash, text
from tests.support.waiting import eventually
from tests.support.world import World, opencode_run


async def finished_turn(
    client: OpenCodeClient, session_id: SessionID, directory: str
) -> list[Message] | None:
    """The session's messages once its newest assistant message closes the turn."""
    page = await client.messages(session_id, directory)
    assistants = [m for m in page.messages if m.info.role == "assistant"]
    if assistants and assistants[-1].info.ends_turn:
        return list(page.messages)
    return None


async def test_health_reports_the_pinned_version(opencode: OpenCodeClient) -> None:
    health = await opencode.health()
    assert health.healthy
    assert health.version == "1.18.33"


async def test_prompt_and_read_back_user_and_assistant_messages(
    opencode: OpenCodeClient,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
) -> None:
    project = str(make_project())
    scripted_model.add_rule("alpha-greeting", [text("Hello from the scripted model.")])
    session = await opencode.create_session(project)
    assert session.directory == project and session.is_root

    await opencode.prompt_async(
        session.id,
        project,
        [TextInput("please say alpha-greeting"), TextInput("<meta />", synthetic=True)],
    )
    messages = await eventually(
        lambda: finished_turn(opencode, session.id, project), what="the reply"
    )

    user, *_, reply = messages
    assert user.info.role == "user"
    assert user.text() == "please say alpha-greeting"
    synthetic = [p for p in user.parts if isinstance(p, TextPart) and p.synthetic]
    assert [p.text for p in synthetic] == ["<meta />"]
    assert reply.info.role == "assistant"
    assert reply.text() == "Hello from the scripted model."
    assert all(p.is_finished for p in reply.parts)
    listed = await opencode.sessions(project, roots=True)
    assert [s.id for s in listed] == [session.id]


async def test_event_stream_sees_busy_parts_and_idle(
    opencode: OpenCodeClient,
    events: EventStream,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
) -> None:
    project = str(make_project())
    scripted_model.add_rule("beta-stream", [text("Streaming words for the event test.")])
    sub = events.subscribe()
    try:
        session = await opencode.create_session(project)
        await opencode.prompt_async(session.id, project, [TextInput("beta-stream please")])
        seen: list[Event] = []

        async def collect() -> None:
            async for item in sub:
                if isinstance(item, Resync) or item.session_id != session.id:
                    continue
                seen.append(item)
                if isinstance(item, SessionIdle):
                    return

        await asyncio.wait_for(collect(), 60)
    finally:
        sub.close()

    statuses = [e.status.type for e in seen if isinstance(e, SessionStatusChanged) and e.status]
    assert "busy" in statuses
    texts = [e.part for e in seen if isinstance(e, PartUpdated) and isinstance(e.part, TextPart)]
    assert any(p.is_finished and p.text == "Streaming words for the event test." for p in texts)
    assert all(e.directory == project for e in seen if e.directory)


async def test_bash_tool_call_completes_with_its_output(
    opencode: OpenCodeClient,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
) -> None:
    project = str(make_project())
    scripted_model.add_rule(
        "gamma-bash", [bash("echo kimaki-bash-$((40 + 2))"), text("The command ran.")]
    )
    session = await opencode.create_session(project)
    await opencode.prompt_async(session.id, project, [TextInput("run gamma-bash")])
    messages = await eventually(
        lambda: finished_turn(opencode, session.id, project), what="the tool turn"
    )

    tools = [p for m in messages for p in m.parts if isinstance(p, ToolPart)]
    assert [t.tool for t in tools] == ["bash"]
    assert tools[0].state.status == "completed"
    assert "kimaki-bash-42" in (tools[0].state.output or "")
    assert messages[-1].text() == "The command ran."


async def test_messages_page_backwards_with_the_cursor(
    opencode: OpenCodeClient,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
) -> None:
    project = str(make_project())
    session = await opencode.create_session(project)
    for n in range(3):
        await opencode.prompt_async(session.id, project, [TextInput(f"delta-page {n}")])
        await eventually(
            lambda n=n: _has_user_messages(opencode, session.id, project, n + 1),
            what=f"prompt {n}",
        )
        await eventually(lambda: finished_turn(opencode, session.id, project), what="reply")

    everything = await opencode.all_messages(session.id, project, page_size=2)
    newest_two = await opencode.messages(session.id, project, limit=2)
    assert len(everything) == 6
    assert [m.info.id for m in everything[-2:]] == [m.info.id for m in newest_two.messages]
    assert newest_two.next_cursor
    assert [m.info.role for m in everything] == ["user", "assistant"] * 3


async def _has_user_messages(
    client: OpenCodeClient, session_id: SessionID, directory: str, count: int
) -> bool:
    page = await client.messages(session_id, directory)
    return sum(m.info.role == "user" for m in page.messages) >= count


async def test_a_separate_process_session_is_listed_and_readable_but_has_no_status(
    opencode: OpenCodeClient,
    world: World,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
) -> None:
    project = make_project()
    gate = asyncio.Event()
    scripted_model.add_rule("epsilon-tui", [text("Held until the test has looked.", gate=gate)])
    run = asyncio.create_task(opencode_run(world, project, ["epsilon-tui", "from", "terminal"]))
    try:
        await scripted_model.wait_for_request(lambda r: "epsilon-tui" in r.prompt, timeout=60)
        sessions = await eventually(
            lambda: opencode.sessions(str(project), roots=True), what="the session in the list"
        )
        session = sessions[0]
        page = await opencode.messages(session.id, str(project))
        assert page.messages[0].text() == "epsilon-tui from terminal"
        # Busy in another process, yet the shared server knows nothing of it.
        assert session.id not in await opencode.status(str(project))
    finally:
        gate.set()
    result = await run
    assert result.returncode == 0, result.stderr
    messages = await eventually(
        lambda: finished_turn(opencode, session.id, str(project)), what="the finished run"
    )
    assert messages[-1].text() == "Held until the test has looked."


async def test_an_attached_run_goes_through_the_server_and_shows_busy(
    opencode: OpenCodeClient,
    opencode_server: OpenCodeServer,
    world: World,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
) -> None:
    project = make_project()
    gate = asyncio.Event()
    scripted_model.add_rule("zeta-attach", [text("Attached reply.", gate=gate)])
    endpoint = opencode_server.endpoint
    assert endpoint is not None
    run = asyncio.create_task(
        opencode_run(
            world,
            project,
            ["zeta-attach", "please"],
            attach=endpoint.base_url,
            password=endpoint.password,
        )
    )
    try:
        await scripted_model.wait_for_request(lambda r: "zeta-attach" in r.prompt, timeout=60)
        sessions = await opencode.sessions(str(project), roots=True)
        status = await opencode.status(str(project))
        assert status[sessions[0].id].is_busy
    finally:
        gate.set()
    result = await run
    assert result.returncode == 0, result.stderr
