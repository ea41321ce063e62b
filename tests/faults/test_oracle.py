"""The oracle itself: with parts appended to one message by edits, a part doubled inside
a message or out of order inside it must still be caught."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from kimaki.opencode.models import Message
from kimaki.store import ChannelID, Origin, SessionID, ThreadID, ThreadRecord
from tests.faults.oracle import OracleResult, Place, check_parts, marker_places

THREAD = 7
RECORD = ThreadRecord(
    ThreadID(THREAD), SessionID("ses"), ChannelID(1), Path("/p"), Origin.DISCORD, None, False, 0
)


def turn(*texts: str) -> Message:
    parts: list[dict[str, Any]] = [
        {"id": f"p{n}", "type": "text", "text": t, "time": {"start": 1, "end": 2}}
        for n, t in enumerate(texts)
    ]
    info = {"id": "m", "role": "assistant", "time": {"created": 1, "completed": 2}}
    return Message.from_json({"info": info, "parts": parts})


def judge(*contents: str, channel: int = THREAD) -> OracleResult:
    posted: dict[str, list[Place]] = defaultdict(list)
    for index, content in enumerate(contents):
        for marker, place in marker_places(channel, index, content):
            posted[marker].append(place)
    result = OracleResult()
    check_parts(RECORD, [turn("fx-a one.", "fx-b two.", "fx-c three.")], posted, result)
    return result


def test_parts_sharing_messages_in_order_are_clean() -> None:
    result = judge("⬥ fx-a one.\n⬥ fx-b two.", "⬥ fx-c three.")
    assert result.clean and result.parts_checked == 3, result.summary()


def test_a_part_appended_twice_to_one_message_is_doubled() -> None:
    result = judge("⬥ fx-a one.\n⬥ fx-b two.\n⬥ fx-b two.\n⬥ fx-c three.")
    assert result.duplicated == ["fx-b"], result.summary()


def test_parts_swapped_inside_one_message_are_out_of_order() -> None:
    result = judge("⬥ fx-b two.\n⬥ fx-a one.\n⬥ fx-c three.")
    assert result.out_of_order == ["fx-b"], result.summary()


def test_a_missing_part_is_lost_and_one_elsewhere_misplaced() -> None:
    assert judge("⬥ fx-a one.\n⬥ fx-c three.").lost == ["fx-b"]
    assert judge("⬥ fx-a one.\n⬥ fx-b two.\n⬥ fx-c three.", channel=8).misplaced == [
        "fx-a",
        "fx-b",
        "fx-c",
    ]
