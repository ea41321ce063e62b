"""The `prompts` table: recorded before posting, grouped asks, claims that only one click wins."""

from __future__ import annotations

from kimaki.store import (
    DiscordMessageID,
    PromptKind,
    PromptState,
    SessionID,
    Store,
    ThreadRecord,
    nonce_for,
    prompt_key,
)


def add(store: Store, thread: ThreadRecord, request_id: str, group: str = "g1") -> str:
    record = store.prompts.add(
        request_id,
        PromptKind.PERMISSION,
        thread.thread_id,
        SessionID("ses_a"),
        thread.directory,
        group,
        f"asks {request_id}",
    )
    return record.leader


def test_same_group_asks_share_the_first_message(store: Store, thread: ThreadRecord) -> None:
    assert add(store, thread, "per_1") == "per_1"
    assert add(store, thread, "per_2") == "per_1"
    assert add(store, thread, "per_3", group="other") == "per_3"
    assert [r.request_id for r in store.prompts.followers("per_1")] == ["per_1", "per_2"]
    # Adding again is a no-op that returns the stored row.
    assert add(store, thread, "per_2") == "per_1"
    assert len(store.prompts.pending_in(thread.thread_id)) == 3


def test_a_decided_group_no_longer_collects_asks(store: Store, thread: ThreadRecord) -> None:
    add(store, thread, "per_1")
    assert store.prompts.decide(["per_1"], PromptState.ANSWERED, "once", "owner") == ["per_1"]
    assert add(store, thread, "per_2") == "per_2"


def test_decide_claims_once_and_reopen_undoes_it(store: Store, thread: ThreadRecord) -> None:
    add(store, thread, "per_1")
    store.prompts.set_message("per_1", DiscordMessageID(77))
    assert store.prompts.decide(["per_1"], PromptState.ANSWERED, "once", "ann") == ["per_1"]
    assert store.prompts.decide(["per_1"], PromptState.ANSWERED, "reject", "bob") == []
    row = store.prompts.get("per_1")
    assert row is not None and (row.decision, row.decided_by) == ("once", "ann")
    assert row.decided_at is not None and row.message_id == 77
    store.prompts.reopen(["per_1"])
    row = store.prompts.get("per_1")
    assert row is not None and row.state is PromptState.PENDING and row.decided_by is None


def test_question_answers_round_trip(store: Store, thread: ThreadRecord) -> None:
    add(store, thread, "que_1")
    store.prompts.set_answers("que_1", [None, ["Blue", "Teal"]])
    row = store.prompts.get("que_1")
    assert row is not None and row.answers == (None, ("Blue", "Teal"))


def test_the_prompt_nonce_is_stable_and_short(thread: ThreadRecord) -> None:
    nonce = nonce_for(thread.thread_id, prompt_key("per_1"))
    assert nonce == nonce_for(thread.thread_id, prompt_key("per_1")) and len(nonce) <= 25
    assert nonce != nonce_for(thread.thread_id, prompt_key("per_2"))
