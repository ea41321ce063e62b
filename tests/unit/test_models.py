"""Wire models: typed where kimaki reads them, tolerant of everything else."""

from __future__ import annotations

from kimaki.opencode.models import (
    Event,
    Heartbeat,
    Message,
    MessageInfo,
    Part,
    PartUpdated,
    PermissionAsked,
    QuestionAsked,
    Session,
    SessionIdle,
    SessionStatusChanged,
    SessionUpdated,
    TextPart,
    ToolPart,
    parse_event,
    parse_part,
)


def test_unknown_part_type_is_kept_generic_with_its_fields() -> None:
    raw = {"id": "prt_1", "sessionID": "ses_1", "messageID": "msg_1", "type": "hologram", "x": 1}
    part = parse_part(raw)
    assert type(part) is Part
    assert part.type == "hologram" and part.raw["x"] == 1
    assert part.is_finished


def test_text_part_is_finished_only_with_time_end() -> None:
    base = {"id": "prt_1", "sessionID": "s", "messageID": "m", "type": "text", "text": ""}
    streaming = parse_part({**base, "time": {"start": 1}})
    done = parse_part({**base, "text": "hi", "time": {"start": 1, "end": 2}, "future": True})
    assert isinstance(streaming, TextPart) and not streaming.is_finished
    assert isinstance(done, TextPart) and done.is_finished and done.text == "hi"
    assert done.raw["future"] is True


def test_tool_part_states() -> None:
    def tool(state: dict[str, object]) -> ToolPart:
        part = parse_part(
            {
                "id": "p",
                "sessionID": "s",
                "messageID": "m",
                "type": "tool",
                "callID": "c",
                "tool": "bash",
                "state": state,
            }
        )
        assert isinstance(part, ToolPart)
        return part

    assert not tool({"status": "running", "input": {"command": "ls"}}).is_finished
    done = tool({"status": "completed", "input": {"command": "ls"}, "output": "a\n", "title": "ls"})
    assert done.is_finished and done.state.output == "a\n" and done.state.input["command"] == "ls"
    failed = tool({"status": "error", "input": {}, "error": "boom"})
    assert failed.is_finished and failed.state.error == "boom"
    assert not tool({"status": "from-the-future"}).is_finished


def test_message_info_turn_end_and_errors() -> None:
    step = MessageInfo.from_json(
        {
            "id": "m1",
            "role": "assistant",
            "time": {"created": 1, "completed": 2},
            "finish": "tool-calls",
        }
    )
    final = MessageInfo.from_json(
        {"id": "m2", "role": "assistant", "time": {"created": 1, "completed": 3}, "finish": "stop"}
    )
    aborted = MessageInfo.from_json(
        {
            "id": "m3",
            "role": "assistant",
            "time": {"created": 1},
            "error": {"name": "MessageAbortedError", "data": {"message": "Aborted"}},
        }
    )
    assert not step.ends_turn and final.ends_turn and aborted.ends_turn
    assert aborted.error_name == "MessageAbortedError" and aborted.error_message == "Aborted"


def test_message_text_ignores_synthetic_parts_and_tolerates_missing_parts() -> None:
    message = Message.from_json(
        {
            "info": {"id": "m", "role": "user", "time": {"created": 1}},
            "parts": [
                {"id": "a", "type": "text", "text": "hello"},
                {"id": "b", "type": "text", "text": "<tag/>", "synthetic": True},
                "not-a-part",
            ],
        }
    )
    assert message.text() == "hello" and len(message.parts) == 2
    assert Message.from_json({"info": {"id": "m2"}}).parts == ()


def test_session_fields_and_defaults() -> None:
    session = Session.from_json(
        {
            "id": "ses_1",
            "directory": "/p",
            "title": "T",
            "parentID": "ses_0",
            "time": {"created": 5, "updated": 9},
            "version": "1.18.33",
        }
    )
    assert session.parent_id == "ses_0" and not session.is_root
    assert (session.created, session.updated) == (5, 9)
    assert Session.from_json({"id": "ses_2"}).updated == 0


def test_events_parse_into_their_types() -> None:
    def event(kind: str, props: dict[str, object]) -> Event:
        return parse_event({"directory": "/p", "payload": {"type": kind, "properties": props}})

    part = {"id": "p", "sessionID": "s", "messageID": "m", "type": "text", "text": "x"}
    assert isinstance(event("message.part.updated", {"part": part}), PartUpdated)
    status = event("session.status", {"sessionID": "s", "status": {"type": "busy"}})
    assert isinstance(status, SessionStatusChanged) and status.status and status.status.is_busy
    assert status.session_id == "s" and status.directory == "/p"
    assert isinstance(event("session.idle", {"sessionID": "s"}), SessionIdle)
    updated = event("session.updated", {"sessionID": "s", "info": {"id": "s", "title": "New"}})
    assert isinstance(updated, SessionUpdated) and updated.session
    assert updated.session.title == "New"
    asked = event(
        "permission.asked",
        {"id": "per_1", "sessionID": "s", "permission": "read", "patterns": ["*.env"]},
    )
    assert isinstance(asked, PermissionAsked) and asked.request
    assert asked.request.patterns == ("*.env",)
    question = event(
        "question.asked",
        {
            "id": "que_1",
            "sessionID": "s",
            "questions": [{"question": "Q?", "header": "H", "options": [{"label": "A"}]}],
        },
    )
    assert isinstance(question, QuestionAsked) and question.request
    assert question.request.questions[0].options[0].label == "A"
    assert isinstance(event("server.heartbeat", {}), Heartbeat)


def test_unknown_and_broken_events_stay_generic() -> None:
    unknown = parse_event({"payload": {"type": "galaxy.collapsed", "properties": {"a": 1}}})
    assert type(unknown) is Event and unknown.type == "galaxy.collapsed"
    broken = parse_event({"payload": {"type": "message.part.updated", "properties": {}}})
    assert type(broken) is Event
    bare = parse_event({"type": "session.idle", "properties": {"sessionID": "s"}})
    assert isinstance(bare, SessionIdle) and bare.session_id == "s"
    v2 = parse_event({"payload": {"type": "session.idle", "data": {"sessionID": "s2"}}})
    assert v2.session_id == "s2"
    assert parse_event({}).type == "unknown"
