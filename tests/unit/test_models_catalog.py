"""Wire models for issues 11, 12 and 15: usage, run errors, catalog, sessions' extra fields.

Payloads are trimmed copies of what OpenCode 1.18.33 sent in the tests under tests/opencode.
"""

from __future__ import annotations

from typing import Any

import pytest

from kimaki.opencode.errors import NotFound, OpenCodeHTTPError, SessionBusy, http_error
from kimaki.opencode.models import (
    Agent,
    Command,
    Message,
    ModelRef,
    PatchPart,
    ProviderCatalog,
    RunError,
    Session,
    SessionErrored,
    StepFinishPart,
    Tokens,
    parse_event,
    parse_part,
)
from kimaki.opencode.prompt import FileInput

TOKENS = {
    "total": 1050,
    "input": 800,
    "output": 40,
    "reasoning": 10,
    "cache": {"read": 200, "write": 0},
}


def test_tokens_and_the_context_a_step_used() -> None:
    tokens = Tokens.from_json(TOKENS)
    assert tokens == Tokens(input=800, output=40, reasoning=10, cache_read=200)
    assert tokens.context == 1050
    assert Tokens.from_json({}) == Tokens()


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"name": "MessageAbortedError", "data": {"message": "Aborted"}}, "aborted"),
        (
            {
                "name": "APIError",
                "data": {"message": "bad key", "statusCode": 401, "isRetryable": False},
            },
            "auth",
        ),
        ({"name": "ProviderAuthError", "data": {"providerID": "x", "message": "no key"}}, "auth"),
        (
            {
                "name": "APIError",
                "data": {"message": "slow down", "statusCode": 429, "isRetryable": True},
            },
            "rate_limit",
        ),
        ({"name": "ContextOverflowError", "data": {"message": "too long"}}, "context_overflow"),
        ({"name": "MessageOutputLengthError", "data": {}}, "output_length"),
        (
            {
                "name": "APIError",
                "data": {"message": "bad thing", "statusCode": 400, "isRetryable": False},
            },
            "api",
        ),
        ({"name": "UnknownError", "data": {"message": "Model not found: a/b."}}, "unknown"),
    ],
)
def test_run_errors_are_sorted_into_what_a_person_is_told(error: dict[str, Any], kind: str) -> None:
    parsed = RunError.from_json(error)
    assert parsed.kind == kind
    assert parsed.message == error["data"].get("message", "")


def test_assistant_and_user_infos_carry_model_agent_usage_and_error() -> None:
    assistant = Message.from_json(
        {
            "info": {
                "id": "msg_2",
                "sessionID": "ses_1",
                "role": "assistant",
                "parentID": "msg_1",
                "agent": "plan",
                "mode": "plan",
                "variant": "high",
                "modelID": "m",
                "providerID": "p",
                "cost": 0.00321,
                "tokens": TOKENS,
                "time": {"created": 1, "completed": 2},
                "error": {"name": "APIError", "data": {"message": "x", "statusCode": 401}},
            },
            "parts": [
                {
                    "id": "prt_1",
                    "sessionID": "ses_1",
                    "messageID": "msg_2",
                    "type": "step-finish",
                    "reason": "stop",
                    "cost": 0.00321,
                    "tokens": TOKENS,
                },
                {
                    "id": "prt_2",
                    "sessionID": "ses_1",
                    "messageID": "msg_2",
                    "type": "patch",
                    "hash": "abc",
                    "files": ["/p/notes.txt"],
                },
            ],
        }
    )
    info = assistant.info
    assert (info.agent, info.model, info.variant, info.cost) == (
        "plan",
        ModelRef("p", "m"),
        "high",
        0.00321,
    )
    assert info.tokens == Tokens.from_json(TOKENS) and not info.summary
    assert info.run_error is not None and info.run_error.kind == "auth"
    finish, patch = assistant.parts
    assert isinstance(finish, StepFinishPart) and finish.tokens.context == 1050
    assert isinstance(patch, PatchPart) and patch.files == ("/p/notes.txt",)
    user = Message.from_json(
        {
            "info": {
                "id": "msg_1",
                "role": "user",
                "agent": "build",
                "system": "extra",
                "model": {"providerID": "p", "modelID": "m", "variant": "low"},
            },
            "parts": [],
        }
    ).info
    assert (user.model, user.variant, user.tokens, user.cost) == (
        ModelRef("p", "m"),
        "low",
        None,
        None,
    )


def test_step_finish_without_tokens_still_parses() -> None:
    part = parse_part({"id": "prt_1", "type": "step-finish"})
    assert isinstance(part, StepFinishPart) and part.tokens == Tokens() and part.cost == 0.0


def test_session_share_revert_archive_and_usage() -> None:
    session = Session.from_json(
        {
            "id": "ses_1",
            "directory": "/p",
            "title": "t",
            "cost": 0.5,
            "tokens": TOKENS,
            "share": {"url": "https://opncd.ai/s/x"},
            "revert": {"messageID": "msg_9", "snapshot": "s"},
            "time": {"created": 1, "updated": 2, "archived": 3},
            "project": {"id": "prj", "worktree": "/p"},
        }
    )
    assert (session.share_url, session.revert_to, session.archived, session.cost) == (
        "https://opncd.ai/s/x",
        "msg_9",
        3,
        0.5,
    )
    plain = Session.from_json({"id": "ses_2"})
    assert (plain.share_url, plain.revert_to, plain.archived, plain.tokens) == (
        None,
        None,
        None,
        Tokens(),
    )


def test_session_error_event_has_its_run_error() -> None:
    event = parse_event(
        {
            "directory": "/p",
            "payload": {
                "type": "session.error",
                "properties": {
                    "sessionID": "ses_1",
                    "error": {"name": "ContextOverflowError", "data": {"message": "big"}},
                },
            },
        }
    )
    assert isinstance(event, SessionErrored)
    assert event.run_error is not None and event.run_error.kind == "context_overflow"
    bare = parse_event({"payload": {"type": "session.error", "properties": {"sessionID": "ses_1"}}})
    assert isinstance(bare, SessionErrored) and bare.run_error is None


def test_model_ref_parses_provider_slash_model() -> None:
    assert ModelRef.parse("openrouter/anthropic/claude") == ModelRef(
        "openrouter", "anthropic/claude"
    )
    assert str(ModelRef("p", "m")) == "p/m" and ModelRef("p", "m").to_json() == {
        "providerID": "p",
        "modelID": "m",
    }
    for bad in ("nomodel", "/m", "p/", ""):
        with pytest.raises(ValueError):
            ModelRef.parse(bad)


def test_catalog_models_and_agents() -> None:
    catalog = ProviderCatalog.from_json(
        {
            "default": {"p": "m1"},
            "providers": [
                {
                    "id": "p",
                    "name": "P",
                    "source": "config",
                    "models": {
                        "m1": {
                            "id": "m1",
                            "providerID": "p",
                            "name": "M1",
                            "capabilities": {
                                "reasoning": True,
                                "attachment": True,
                                "toolcall": True,
                                "input": {"text": True, "image": True, "pdf": False},
                            },
                            "cost": {
                                "input": 3,
                                "output": 15,
                                "cache": {"read": 0.3, "write": 3.75},
                            },
                            "limit": {"context": 1000, "output": 100},
                            "variants": {"low": {}, "high": {}},
                        },
                        "m2": {"name": "M2"},
                    },
                },
                "not a provider",
            ],
        }
    )
    m1 = catalog.model(ModelRef("p", "m1"))
    m2 = catalog.model(ModelRef("p", "m2"))
    assert m1 is not None and m2 is not None and catalog.model(ModelRef("q", "m1")) is None
    assert (
        m1.accepts("image/png")
        and not m1.accepts("application/pdf")
        and m1.accepts("text/x-python")
    )
    assert m1.variants == ("low", "high") and m1.context_percent(Tokens(input=250)) == 25.0
    assert m1.cost.of(
        Tokens(input=1000, output=100, reasoning=100, cache_read=1000)
    ) == pytest.approx((3000 + 200 * 15 + 300) / 1e6)
    assert (m2.id, m2.context_limit, m2.context_percent(Tokens(input=1)), m2.inputs) == (
        "m2",
        None,
        None,
        frozenset(),
    )
    assert [m.ref for m in catalog.models()] == [ModelRef("p", "m1"), ModelRef("p", "m2")]
    agent = Agent.from_json(
        {"name": "docs", "mode": "all", "model": {"providerID": "p", "modelID": "m1"}}
    )
    assert agent.selectable and agent.model == ModelRef("p", "m1") and not agent.native
    hidden = Agent.from_json({"name": "title", "mode": "primary", "hidden": True})
    assert hidden.is_primary and not hidden.selectable
    command = Command.from_json(
        {"name": "review", "template": "t", "hints": ["$ARGUMENTS"], "subtask": True}
    )
    assert (command.source, command.hints, command.subtask) == ("command", ("$ARGUMENTS",), True)


def test_http_errors_read_both_error_shapes() -> None:
    busy = http_error(
        409, {"_tag": "SessionBusyError", "sessionID": "s", "message": "Session is busy: s"}, ""
    )
    assert isinstance(busy, SessionBusy) and (busy.name, str(busy)) == (
        "SessionBusyError",
        "HTTP 409 SessionBusyError: Session is busy: s",
    )
    gone = http_error(404, {"name": "NotFoundError", "data": {"message": "no session"}}, "")
    assert isinstance(gone, NotFound) and gone.name == "NotFoundError"
    bad = http_error(400, {"_tag": "BadRequest"}, '{"_tag": "BadRequest"}')
    assert type(bad) is OpenCodeHTTPError and bad.name == "BadRequest"


def test_file_inputs_are_data_urls_with_the_mime_type() -> None:
    inline = FileInput.from_bytes(b"hi", "text/plain", "a.txt")
    assert inline.to_json() == {
        "type": "file",
        "mime": "text/plain",
        "url": "data:text/plain;base64,aGk=",
        "filename": "a.txt",
    }
    assert FileInput("image/png", "data:,").to_json() == {
        "type": "file",
        "mime": "image/png",
        "url": "data:,",
    }
