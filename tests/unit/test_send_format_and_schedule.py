"""What a send message carries (built by the CLI, read back by kimaki) and when tasks fire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kimaki.opencode.models import ModelRef
from kimaki.sends.format import (
    FOOTER,
    PROMPT_FILE,
    SendRequest,
    build,
    model_error,
    outcome_embed,
)
from kimaki.store import QueuedPrompt, QueuedPromptID, QueueState, SessionID, TaskKind, ThreadID
from kimaki.tasks.schedule import ScheduleError, from_ms, latest_cron, next_cron, parse_when
from kimaki.turns import PromptChoice
from kimaki.turns.prompt import Prompt, own_choice

NOW = datetime(2030, 1, 1, 9, 2, 30, tzinfo=UTC)


def test_a_send_message_carries_its_options_and_a_long_prompt_as_a_file() -> None:
    request = SendRequest(
        "fix it", "box", name="n", agent="plan", model="p/m", wait=True, task_id=7
    )
    message = build(request)
    assert message.content == "fix it" and message.files == []
    embed = message.embed
    assert embed.footer.text == FOOTER and "scheduled task #7 on **box**" in str(embed.description)
    fields = {f.name: f.value for f in embed.fields}
    assert fields == {
        "thread name": "n",
        "agent": "plan",
        "model": "p/m",
        "waiting": "yes",
        "task": "#7",
    }
    assert request.model_ref == ("p", "m") and request.thread_name == "n"
    long = build(SendRequest("first line\n" + "y" * 3000, "box"))
    assert len(long.content) < 2000 and PROMPT_FILE in long.content
    assert [f.filename for f in long.files] == [PROMPT_FILE]
    shown = outcome_embed(outcome_embed(embed, "✗ first"), "✓ answered")
    assert [f.value for f in shown.fields if f.name == "outcome"] == ["✓ answered"]
    assert model_error("p/m") is None and model_error("nomodel") is not None


def test_when_tasks_fire() -> None:
    assert parse_when("2030-01-02T10:00Z", NOW) == (
        TaskKind.ONCE,
        int(datetime(2030, 1, 2, 10, tzinfo=UTC).timestamp() * 1000),
    )
    kind, first = parse_when("*/5 * * * *", NOW)
    assert kind is TaskKind.CRON and from_ms(first) == datetime(2030, 1, 1, 9, 5, tzinfo=UTC)
    for bad, why in [
        ("2029-12-31T00:00Z", "in the past"),
        ("soon", "ISO-8601"),
        ("61 * * * *", "cron"),
    ]:
        with pytest.raises(ScheduleError, match=why):
            parse_when(bad, NOW)
    at = datetime(2030, 1, 1, 9, 5, tzinfo=UTC)
    assert from_ms(next_cron("*/5 * * * *", at)) == datetime(2030, 1, 1, 9, 10, tzinfo=UTC)
    assert from_ms(latest_cron("*/5 * * * *", at) or 0) == at  # an occurrence at "now" counts
    assert from_ms(latest_cron("0 9 * * *", NOW) or 0) == datetime(2030, 1, 1, 9, tzinfo=UTC)


def test_a_send_naming_an_agent_and_model_wins_over_the_threads_choice() -> None:
    thread = PromptChoice(model=ModelRef("p", "thread"), agent="build", variant="high")
    named = Prompt("9", 7, "kimaki send (box)", "go", agent="plan", model=ModelRef("p", "m"))
    plain = Prompt("8", 7, "Ann", "hi")
    assert "agent" not in plain.extras()
    batch = [queued(plain), queued(named)]
    assert own_choice(batch, thread) == PromptChoice(ModelRef("p", "m"), "plan", None)
    assert own_choice([queued(plain)], thread) == thread
    agent_only = Prompt("7", 7, "kimaki send (box)", "go", agent="plan")
    assert own_choice([queued(agent_only)], thread) == PromptChoice(thread.model, "plan", "high")


def queued(prompt: Prompt) -> QueuedPrompt:
    return QueuedPrompt(
        id=QueuedPromptID(int(prompt.source)),
        thread_id=ThreadID(300),
        session_id=SessionID("ses_1"),
        source=prompt.source,
        author_id=prompt.author_id,
        author_name=prompt.author_name,
        text=prompt.text,
        extras=prompt.extras(),
        interrupt=False,
        state=QueueState.QUEUED,
        marked=False,
        created_at=0,
        sent_at=None,
    )
