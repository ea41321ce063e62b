"""Turn footers and the lines for compaction and errors: from OpenCode's messages to text."""

from __future__ import annotations

from typing import Any

import pytest

from kimaki.ids import Verbosity
from kimaki.mirror import Context, footer_key, plan
from kimaki.opencode.models import Message, MessageInfo, ModelRef
from kimaki.render import TurnFigures, render_footer, render_message_error, render_retry
from kimaki.render.footer import dollars, duration, tokens

DEFAULT = Verbosity.TEXT_AND_ESSENTIAL_TOOLS
VISION = ModelRef("scripted", "scripted-vision")


def message(mid: str, role: str, *parts: dict[str, Any], **info: Any) -> Message:
    data: dict[str, Any] = {"id": mid, "role": role, "sessionID": "ses_1", **info}
    return Message.from_json({"info": data, "parts": list(parts)})


def prompt(mid: str, words: str, at: int) -> Message:
    return message(
        mid, "user", {"id": f"{mid}-t", "type": "text", "text": words}, time={"created": at}
    )


def step(
    mid: str,
    *,
    parent: str,
    at: int,
    done: int,
    finish: str | None = "stop",
    cost: float = 0.0,
    used: tuple[int, int, int, int] = (0, 0, 0, 0),
    text: str | None = None,
    **info: Any,
) -> Message:
    inp, out, reasoning, cached = used
    parts = (
        []
        if text is None
        else [{"id": f"{mid}-t", "type": "text", "text": text, "time": {"start": at, "end": done}}]
    )
    return message(
        mid,
        "assistant",
        *parts,
        parentID=parent,
        providerID=VISION.provider_id,
        modelID=VISION.model_id,
        finish=finish,
        cost=cost,
        tokens={
            "input": inp,
            "output": out,
            "reasoning": reasoning,
            "cache": {"read": cached, "write": 0},
        },
        time={"created": at, "completed": done},
        **{"agent": "build", **info},
    )


def limit(model: ModelRef) -> int | None:
    return 200_000 if model == VISION else None


TURN = [
    prompt("u1", "look", 1_000),
    step(
        "a1",
        parent="u1",
        at=1_100,
        done=3_000,
        finish="tool-calls",
        cost=0.01,
        used=(800, 40, 10, 200),
    ),
    step("a2", parent="u1", at=3_100, done=13_500, cost=0.0025, used=(1200, 30, 0, 0), text="seen"),
]


def test_the_footer_sums_cost_and_shows_the_last_steps_context_against_the_limit() -> None:
    units = plan(TURN, set(), DEFAULT, context=Context(context_limit=limit)).units
    footer = units[-1]
    assert (footer.key, footer.notify) == (footer_key(TURN[-1]), True)
    assert footer.text == "-# ⬦ 12s · scripted-vision · build · context 1.2k/200k (0.6%) · $0.0125"
    assert [u.notify for u in units[:-1]] == [False, False]


def test_the_footer_leaves_out_what_is_not_known() -> None:
    free = [*TURN[:2], step("a2", parent="u1", at=3_100, done=4_000, used=(1200, 30, 0, 0))]
    free[1] = step("a1", parent="u1", at=1_100, done=3_000, finish="tool-calls")
    units = plan(free, set(), DEFAULT).units
    assert units[-1].text == "-# ⬦ 3.0s · scripted-vision · build · context 1.2k"


def test_a_footer_waits_for_the_turns_prompt_when_the_window_starts_after_it() -> None:
    later = TURN[1:]
    result = plan(later, set(), DEFAULT, context=Context(complete=False))
    assert result.needs_history and not any(u.key.startswith("footer:") for u in result.units)
    whole = plan(later, set(), DEFAULT, context=Context(complete=True))
    assert whole.units[-1].text.startswith("-# ⬦ scripted-vision")


def test_turns_ended_before_footers_existed_get_none() -> None:
    result = plan(TURN, set(), DEFAULT, context=Context(footers_from=20_000))
    assert not any(u.key.startswith("footer:") for u in result.units)
    assert plan(TURN, set(), DEFAULT, context=Context(footers_from=13_500)).units[-1].notify


def test_a_context_overflow_is_one_line_and_the_summary_is_not_posted() -> None:
    overflow = [
        prompt("u1", "big", 1_000),
        step("a1", parent="u1", at=1_100, done=1_200, finish=None),  # empty, no finish
        message("u2", "user", {"id": "c1", "type": "compaction", "auto": True, "overflow": True}),
        step(
            "a2",
            parent="u2",
            at=1_300,
            done=1_400,
            text="## Objective …",
            summary=True,
            agent="compaction",
        ),
        message(
            "u3", "user", {"id": "u3-t", "type": "text", "text": "continue", "synthetic": True}
        ),
        step("a3", parent="u3", at=1_500, done=2_000, text="answered", used=(10, 5, 0, 0)),
    ]
    result = plan(overflow, set(), DEFAULT)
    assert [u.text for u in result.units] == [
        "» **user:** big",
        "⬦ context overflow: the conversation no longer fit the model's context window; "
        "OpenCode compacted it and carries on",
        "⬥ answered",
        "-# ⬦ 1.0s · scripted-vision · build · context 15",
    ]
    assert "a2-t" in result.skipped


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            {
                "name": "APIError",
                "data": {"message": "Incorrect API key provided", "statusCode": 401},
            },
            "✗ scripted refused the API key (HTTP 401): Incorrect API key provided. "
            "Check the key OpenCode uses",
        ),
        (
            {
                "name": "APIError",
                "data": {"message": "You exceeded your quota.", "statusCode": 429},
            },
            "✗ scripted rate limit or quota reached (HTTP 429): You exceeded your quota",
        ),
        (
            {"name": "APIError", "data": {"message": "Bad request", "statusCode": 400}},
            "✗ scripted API error (HTTP 400): Bad request",
        ),
        (
            {"name": "MessageOutputLengthError", "data": {}},
            "✗ the answer hit the model's output limit and was cut off",
        ),
        (
            {"name": "UnknownError", "data": {"message": "boom\nat x"}},
            "✗ opencode session error: boom at x",
        ),
    ],
)
def test_errors_are_said_plainly(error: dict[str, Any], said: str) -> None:
    info = MessageInfo.from_json(
        {"id": "a1", "role": "assistant", "providerID": "scripted", "modelID": "m", "error": error}
    )
    assert render_message_error(info) == said


def test_figures_read_as_people_write_them() -> None:
    assert [duration(ms) for ms in (4_200, 42_000, 185_000, 3_725_000)] == [
        "4.2s",
        "42s",
        "3m 05s",
        "1h 02m",
    ]
    assert [tokens(n) for n in (950, 1_260, 45_300, 200_000, 1_500_000)] == [
        "950",
        "1.3k",
        "45k",
        "200k",
        "1.5M",
    ]
    assert [dollars(c) for c in (1.234, 0.05, 0.0125, 0.00004)] == [
        "$1.23",
        "$0.05",
        "$0.0125",
        "<$0.0001",
    ]
    assert render_footer(TurnFigures(None, None, None, None, None, None)) == "-# ⬦ done"
    assert render_retry("Rate limit reached", 2, 3.6) == (
        "⬦ Rate limit reached: OpenCode retries in 4 s (attempt 2); /abort stops it"
    )
