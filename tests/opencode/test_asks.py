"""Permissions, questions and abort through the client, on the real OpenCode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.models import (
    Message,
    PermissionRequest,
    QuestionRequest,
    SessionID,
    ToolPart,
)
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from scripted_model import ScriptedModel, bash, text, tool_call
from tests.support.waiting import eventually
from tests.support.world import commit_all


def ask_for(project: Path, permission: str) -> None:
    """Make `permission` ask in this project (the last matching rule wins)."""
    config = json.loads((project / "opencode.json").read_text())
    config["permission"] = {"*": "allow", permission: "ask"}
    (project / "opencode.json").write_text(json.dumps(config))


async def newest_assistant(
    client: OpenCodeClient, session_id: SessionID, directory: str
) -> Message | None:
    page = await client.messages(session_id, directory)
    assistants = [m for m in page.messages if m.info.role == "assistant"]
    return assistants[-1] if assistants and assistants[-1].info.ends_turn else None


def tool_parts(messages: list[Message] | tuple[Message, ...]) -> list[ToolPart]:
    return [p for m in messages for p in m.parts if isinstance(p, ToolPart)]


async def test_a_permission_ask_is_listed_and_answered_once(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    ask_for(project, "bash")
    directory = str(project)
    scripted_model.add_rule("eta-ask", [bash("echo asked-and-allowed"), text("Ran it.")])
    session = await opencode.create_session(directory)
    await opencode.prompt_async(session.id, directory, [TextInput("eta-ask please")])

    pending = await eventually(
        lambda: _asks_for(opencode, directory, session.id), what="the permission ask"
    )
    assert pending.permission == "bash"
    assert await opencode.reply_permission(pending.id, "once", directory=directory)
    await eventually(lambda: newest_assistant(opencode, session.id, directory), what="the end")

    page = await opencode.messages(session.id, directory)
    (tool,) = tool_parts(page.messages)
    assert tool.state.status == "completed"
    assert "asked-and-allowed" in (tool.state.output or "")
    assert not await _asks_for(opencode, directory, session.id)


async def test_a_rejected_permission_carries_the_feedback(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    ask_for(project, "bash")
    directory = str(project)
    scripted_model.add_rule("theta-deny", [bash("echo never"), text("unreachable")])
    session = await opencode.create_session(directory)
    await opencode.prompt_async(session.id, directory, [TextInput("theta-deny please")])
    pending = await eventually(
        lambda: _asks_for(opencode, directory, session.id), what="the permission ask"
    )
    await opencode.reply_permission(
        pending.id, "reject", message="not on this machine", directory=directory
    )

    async def errored_tool() -> ToolPart | None:
        page = await opencode.messages(session.id, directory)
        tools = tool_parts(page.messages)
        return tools[0] if tools and tools[0].state.status == "error" else None

    tool = await eventually(errored_tool, what="the rejected tool")
    assert "not on this machine" in (tool.state.error or "")


async def _asks_for(
    client: OpenCodeClient, directory: str, session_id: SessionID
) -> PermissionRequest | None:
    asks = [p for p in await client.permissions(directory) if p.session_id == session_id]
    return asks[0] if asks else None


async def test_a_question_is_listed_and_its_answer_reaches_the_tool(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    directory = str(make_project())
    question = {
        "question": "Which colour should the button be?",
        "header": "Colour",
        "options": [
            {"label": "Red", "description": "warm"},
            {"label": "Blue", "description": "calm"},
        ],
    }
    scripted_model.add_rule(
        "iota-question", [tool_call("question", questions=[question]), text("Noted.")]
    )
    session = await opencode.create_session(directory)
    await opencode.prompt_async(session.id, directory, [TextInput("iota-question please")])

    async def asked() -> QuestionRequest | None:
        found = [q for q in await opencode.questions(directory) if q.session_id == session.id]
        return found[0] if found else None

    request = await eventually(asked, what="the question")
    assert request.questions[0].header == "Colour"
    assert [o.label for o in request.questions[0].options] == ["Red", "Blue"]
    assert await opencode.reply_question(request.id, [["Blue"]], directory=directory)
    await eventually(lambda: newest_assistant(opencode, session.id, directory), what="the end")
    page = await opencode.messages(session.id, directory)
    (tool,) = tool_parts(page.messages)
    assert tool.state.status == "completed" and "Blue" in (tool.state.output or "")


async def test_abort_ends_a_running_turn(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    directory = str(make_project())
    gate = asyncio.Event()
    scripted_model.add_rule("kappa-slow", [text("This never finishes on its own.", gate=gate)])
    try:
        session = await opencode.create_session(directory)
        await opencode.prompt_async(session.id, directory, [TextInput("kappa-slow please")])
        await scripted_model.wait_for_request(lambda r: "kappa-slow" in r.prompt, timeout=60)
        assert (await opencode.status(directory))[session.id].is_busy
        assert await opencode.abort(session.id, directory)
        message = await eventually(
            lambda: newest_assistant(opencode, session.id, directory), what="the aborted turn"
        )
        assert message.info.error_name == "MessageAbortedError"
        await eventually(
            lambda: _idle(opencode, directory, session.id), what="the session to go idle"
        )
    finally:
        gate.set()


async def _idle(client: OpenCodeClient, directory: str, session_id: SessionID) -> bool:
    return session_id not in await client.status(directory)


async def test_projects_include_a_git_project_that_ran_a_session(
    opencode: OpenCodeClient, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    directory = str(project)
    # OpenCode names a project after its first commit; without one it files it under "global".
    commit_all(project)
    session = await opencode.create_session(directory)
    await opencode.prompt_async(session.id, directory, [TextInput("lambda-project hello")])
    await eventually(lambda: newest_assistant(opencode, session.id, directory), what="reply")
    worktrees = {p.worktree for p in await opencode.projects()}
    assert directory in worktrees
