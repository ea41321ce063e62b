"""Provider failures as OpenCode reports them over REST and events, with the scripted faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from kimaki.opencode.events import EventStream, Resync, Subscription
from kimaki.opencode.models import (
    Event,
    RunError,
    SessionErrored,
    SessionID,
    SessionStatusChanged,
    TextPart,
)
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from scripted_model import (
    ScriptedModel,
    auth_error,
    broken_stream,
    context_overflow,
    rate_limited,
    text,
)
from tests.opencode.turns import run_turn


@pytest.fixture
async def sub(events: EventStream) -> AsyncIterator[Subscription]:
    subscription = events.subscribe()
    try:
        yield subscription
    finally:
        subscription.close()


async def session_events(
    sub: Subscription, session_id: SessionID, until: type[Event]
) -> list[Event]:
    """This session's events up to and including the first `until`."""
    seen: list[Event] = []

    async def collect() -> None:
        async for item in sub:
            if isinstance(item, Resync) or item.session_id != session_id:
                continue
            seen.append(item)
            if isinstance(item, until):
                return

    await asyncio.wait_for(collect(), 120)
    return seen


async def session_error(sub: Subscription, session_id: SessionID) -> RunError:
    errored = (await session_events(sub, session_id, SessionErrored))[-1]
    assert isinstance(errored, SessionErrored) and errored.run_error is not None
    return errored.run_error


async def test_an_auth_failure_ends_the_turn_with_an_api_error(
    opencode: OpenCodeClient,
    scripted_model: ScriptedModel,
    sub: Subscription,
    make_project: Callable[[], Path],
) -> None:
    where = str(make_project())
    scripted_model.add_rule("re-auth", [auth_error()])
    session = await opencode.create_session(where)
    messages = await run_turn(opencode, session.id, where, "re-auth please")
    error = messages[-1].info.run_error
    assert error is not None
    assert (error.name, error.status_code, error.retryable, error.kind) == (
        "APIError",
        401,
        False,
        "auth",
    )
    assert error.message == "Incorrect API key provided"
    errored = (await session_events(sub, session.id, SessionErrored))[-1]
    assert isinstance(errored, SessionErrored) and errored.run_error == error


async def test_a_rate_limit_shows_retry_status_then_the_answer(
    opencode: OpenCodeClient,
    scripted_model: ScriptedModel,
    sub: Subscription,
    make_project: Callable[[], Path],
) -> None:
    where = str(make_project())
    scripted_model.add_rule("re-limit", [rate_limited(text("re-limit answered"), retry_after=1)])
    session = await opencode.create_session(where)
    sent = asyncio.create_task(run_turn(opencode, session.id, where, "re-limit please"))
    seen = await session_events(sub, session.id, SessionStatusChanged)
    while not any(e.status and e.status.type == "retry" for e in _statuses(seen)):
        seen += await session_events(sub, session.id, SessionStatusChanged)
    [retry] = [e.status for e in _statuses(seen) if e.status and e.status.type == "retry"]
    assert (retry.attempt, retry.message, retry.is_busy) == (1, "Rate limit reached", True)
    assert retry.next is not None and retry.next > 0
    messages = await sent
    assert messages[-1].text() == "re-limit answered" and messages[-1].info.error is None
    statuses = [r.status for r in scripted_model.turn_requests() if r.session_id == session.id]
    assert statuses == [429, 200]


def _statuses(events: list[Event]) -> list[SessionStatusChanged]:
    return [e for e in events if isinstance(e, SessionStatusChanged)]


async def test_a_context_overflow_is_reported_then_compacted_away(
    opencode: OpenCodeClient,
    scripted_model: ScriptedModel,
    sub: Subscription,
    make_project: Callable[[], Path],
) -> None:
    where = str(make_project())
    scripted_model.add_rule("re-overflow", [context_overflow()])
    session = await opencode.create_session(where)
    await opencode.prompt_async(session.id, where, [TextInput("re-overflow please")])
    error = await session_error(sub, session.id)
    assert (error.name, error.kind) == ("ContextOverflowError", "context_overflow")
    assert "maximum context length" in error.message
    await scripted_model.wait_for_request(
        lambda r: r.session_id == session.id and r.kind == "summary", timeout=60
    )


async def test_a_broken_stream_is_retried_and_leaves_an_unfinished_text_part(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    scripted_model.add_rule("re-break", [broken_stream(text("re-break whole answer"), after=1)])
    session = await opencode.create_session(where)
    messages = await run_turn(opencode, session.id, where, "re-break please")
    reply = messages[-1]
    texts = [p for p in reply.parts if isinstance(p, TextPart)]
    assert [(p.text, p.is_finished) for p in texts] == [
        ("", False),
        ("re-break whole answer", True),
    ]
    statuses = [r.status for r in scripted_model.turn_requests() if r.session_id == session.id]
    assert statuses == [200, 200]


async def test_abort_ends_a_held_turn_with_message_aborted(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    gate = asyncio.Event()
    scripted_model.add_rule("re-abort", [text("never finished", gate=gate)])
    session = await opencode.create_session(where)
    try:
        sent = asyncio.create_task(run_turn(opencode, session.id, where, "re-abort please"))
        held = await scripted_model.wait_for_request(
            lambda r: r.session_id == session.id and r.kind == "turn"
        )
        await asyncio.wait_for(held.paused.wait(), 60)
        assert await opencode.abort(session.id, where)
        messages = await sent
    finally:
        gate.set()
    error = messages[-1].info.run_error
    assert error is not None and (error.name, error.kind) == ("MessageAbortedError", "aborted")


async def test_an_unknown_model_fails_after_prompt_async_as_a_session_error(
    opencode: OpenCodeClient, sub: Subscription, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    session = await opencode.create_session(where)
    await opencode.prompt_async(
        session.id, where, [TextInput("re-nomodel")], model=("scripted", "no-such-model")
    )
    error = await session_error(sub, session.id)
    assert (error.name, error.message) == (
        "UnknownError",
        "Model not found: scripted/no-such-model.",
    )
