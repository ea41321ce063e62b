"""The pieces of the prompt path that need no server: prefixes, quotes, tags, the hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kimaki.opencode.models import Message
from kimaki.opencode.prompt import TextInput
from kimaki.origin import build_tag, message_origins, parse_tag
from kimaki.store import QueuedPrompt, QueuedPromptID, QueueState, SessionID, ThreadID
from kimaki.turns import split_interrupt
from kimaki.turns.busy import kimaki_asked
from kimaki.turns.hint import upload_command, upload_hint
from kimaki.turns.prompt import Prompt, next_batch, summary, tag, words


def row(text: str, **extras: Any) -> QueuedPrompt:
    return QueuedPrompt(
        id=QueuedPromptID(1),
        thread_id=ThreadID(300),
        session_id=SessionID("ses_1"),
        source="555",
        author_id=7,
        author_name="Ann",
        text=text,
        extras=extras,
        interrupt=False,
        state=QueueState.QUEUED,
        marked=False,
        created_at=0,
        sent_at=None,
    )


def test_the_interrupt_prefix() -> None:
    assert split_interrupt("!now fix the tests") == (True, "fix the tests")
    assert split_interrupt("  !NOW   stop that") == (True, "stop that")
    assert split_interrupt("!git status") == (False, "!git status")
    assert split_interrupt("now !") == (False, "now !")
    assert split_interrupt("!nowhere") == (False, "!nowhere")


def test_a_reply_brings_its_quote_before_the_words() -> None:
    parts = words(row("and this?", quote="kimaki: ⬥ Done.\nTwo lines."))
    assert parts == [
        TextInput("(In reply to this message from kimaki:)\n> ⬥ Done.\n> Two lines."),
        TextInput("and this?"),
    ]


def test_the_tag_names_the_message_it_came_from() -> None:
    origin = parse_tag(tag(row("hi")).text)
    assert origin is not None
    assert (origin.name, origin.user_id, origin.message_id, origin.thread_id) == (
        "Ann",
        "7",
        "555",
        "300",
    )


def test_every_tag_of_a_gathered_prompt_is_found() -> None:
    parts = [
        {"id": "p1", "type": "text", "text": "one"},
        {"id": "p2", "type": "text", "text": build_tag("a", 1, 11, 3), "synthetic": True},
        {"id": "p3", "type": "text", "text": "two"},
        {"id": "p4", "type": "text", "text": build_tag("b", 2, 12, 3), "synthetic": True},
    ]
    message = Message.from_json({"info": {"id": "m", "role": "user"}, "parts": parts})
    assert [o.message_id for o in message_origins(message)] == ["11", "12"]
    assert kimaki_asked((message,))
    untagged = Message.from_json({"info": {"id": "n", "role": "user"}, "parts": parts[:1]})
    assert not kimaki_asked((message, untagged))


def test_summary_for_queue() -> None:
    files = [{"filename": "a.png", "mime": "image/png", "kind": "image", "path": "/x", "size": 1}]
    assert summary(row("fix   the\ntests", files=files)) == "fix the tests (+1 file)"
    assert summary(row("x" * 100)).endswith("…")


def test_a_prompt_keeps_where_its_message_is() -> None:
    prompt = Prompt("9", 7, "Ann", "hi", message=(300, 9))
    assert prompt.extras() == {"quote": None, "files": [], "message": [300, 9], "parts": []}
    assert Prompt("8", 7, "Ann", "Bob", command="greet").extras()["command"] == "greet"


def test_an_opencode_command_goes_alone_and_prompts_before_it_together() -> None:
    a, b, c, d = row("a"), row("b"), row("Bob", command="greet"), row("d")
    assert next_batch([a, b, c, d]) == [a, b]
    assert next_batch([c, d]) == [c] and next_batch([d]) == [d] and next_batch([]) == []
    assert summary(c) == "/greet Bob"


def test_the_upload_instruction_names_session_and_data_dir() -> None:
    command = upload_command(SessionID("ses_1"), Path("/data dir"), ["kimaki"])
    assert command == "kimaki upload --data-dir '/data dir' --session ses_1"
    hint = upload_hint(command)
    assert f"`{command} PATH...`" in hint and len(hint) < 300
