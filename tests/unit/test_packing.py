"""`packing.next_write`: which pending rows the next Discord write carries."""

from __future__ import annotations

from kimaki.packing import OpenMessage, next_write
from kimaki.store import OutboxPostID, OutboxRow, OutboxRowID, OutboxState, ThreadID

OPEN = OpenMessage(OutboxPostID(1), "posted")


def row(n: int, content: str, *, notify: bool = False, alone: bool = False) -> OutboxRow:
    return OutboxRow(
        id=OutboxRowID(n),
        thread_id=ThreadID(7),
        session_id=None,
        key=f"k{n}",
        nonce=f"n{n}",
        content=content,
        notify=notify,
        state=OutboxState.PENDING,
        discord_message_id=None,
        attempts=0,
        last_error=None,
        created_at=0,
        sent_at=None,
        alone=alone,
    )


def test_nothing_pending_is_no_write() -> None:
    assert next_write([], OPEN) is None


def test_rows_that_fit_are_appended_to_the_open_message() -> None:
    write = next_write([row(1, "a"), row(2, "b"), row(3, "c" * 10)], OPEN, limit=12)
    assert write is not None
    assert write.append_to == OPEN and write.open and not write.notify
    assert [r.id for r in write.rows] == [1, 2]
    assert write.content == "posted\na\nb"


def test_a_row_without_room_starts_a_new_open_message() -> None:
    write = next_write([row(1, "c" * 10), row(2, "d")], OPEN, limit=12)
    assert write is not None and write.append_to is None and write.open
    assert write.content == "c" * 10 + "\nd"


def test_a_notifying_row_is_never_appended_and_closes_its_new_message() -> None:
    write = next_write([row(1, "done", notify=True), row(2, "later")], OPEN)
    assert write is not None and write.append_to is None
    assert (write.content, write.notify, write.open) == ("done", True, False)
    silent_first = next_write([row(1, "text"), row(2, "footer", notify=True), row(3, "x")], None)
    assert silent_first is not None
    assert (silent_first.content, silent_first.notify, silent_first.open) == (
        "text\nfooter",
        True,
        False,
    )
    appended = next_write([row(1, "text"), row(2, "footer", notify=True)], OPEN)
    assert appended is not None and [r.id for r in appended.rows] == [1]


def test_an_alone_row_is_a_closed_message_of_its_own() -> None:
    before = next_write([row(1, "text"), row(2, "retrying", alone=True)], None)
    assert before is not None and [r.id for r in before.rows] == [1] and before.open
    alone = next_write([row(2, "retrying", alone=True), row(3, "text")], OPEN)
    assert alone is not None and alone.append_to is None
    assert ([r.id for r in alone.rows], alone.open) == ([2], False)


def test_a_row_over_the_limit_goes_alone() -> None:
    write = next_write([row(1, "x" * 13), row(2, "y")], None, limit=12)
    assert write is not None and [r.id for r in write.rows] == [1] and not write.open
