"""The /model and /agent choices and the models kimaki sent: set, clear, copy."""

from __future__ import annotations

from kimaki.store import GLOBAL_TARGET, Scope, SessionID, Store


def test_model_and_agent_are_set_and_cleared_independently(store: Store) -> None:
    table = store.prompt_overrides
    table.set_model(Scope.CHANNEL, "42", "p/m", "high")
    table.set_agent(Scope.CHANNEL, "42", "plan")
    row = table.get(Scope.CHANNEL, "42")
    assert row is not None and (row.model, row.variant, row.agent) == ("p/m", "high", "plan")
    table.set_model(Scope.CHANNEL, "42", "p/other", None)
    row = table.get(Scope.CHANNEL, "42")
    assert row is not None and (row.model, row.variant, row.agent) == ("p/other", None, "plan")
    assert table.clear_model(Scope.CHANNEL, "42") is True
    assert table.clear_model(Scope.CHANNEL, "42") is False
    row = table.get(Scope.CHANNEL, "42")
    assert row is not None and (row.model, row.agent) == (None, "plan")
    assert table.clear_agent(Scope.CHANNEL, "42") is True
    assert table.get(Scope.CHANNEL, "42") is None, "an empty row is dropped"
    assert table.get(Scope.GLOBAL, GLOBAL_TARGET) is None


def test_scopes_do_not_share_rows_and_copy_keeps_a_sessions_choices(store: Store) -> None:
    table = store.prompt_overrides
    table.set_agent(Scope.SESSION, "ses_a", "plan")
    table.set_model(Scope.SESSION, "ses_a", "p/m", "low")
    table.set_agent(Scope.GLOBAL, GLOBAL_TARGET, "build")
    table.copy(Scope.SESSION, "ses_a", "ses_b")
    copied = table.get(Scope.SESSION, "ses_b")
    assert copied is not None and (copied.model, copied.variant, copied.agent) == (
        "p/m",
        "low",
        "plan",
    )
    table.copy(Scope.SESSION, "ses_none", "ses_c")
    assert table.get(Scope.SESSION, "ses_c") is None
    assert table.get(Scope.CHANNEL, "ses_a") is None


def test_sent_models_remember_the_last_model_per_session(store: Store) -> None:
    sent = store.sent_models
    assert sent.get(SessionID("ses_a")) is None
    sent.set(SessionID("ses_a"), "p/m")
    sent.set(SessionID("ses_a"), "p/n")
    assert sent.get(SessionID("ses_a")) == "p/n"
    sent.remove(SessionID("ses_a"))
    assert sent.get(SessionID("ses_a")) is None
