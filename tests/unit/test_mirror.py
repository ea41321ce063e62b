"""The mirroring plan: what to post given OpenCode's messages and what was handled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kimaki.ids import Verbosity
from kimaki.mirror import Context, error_key, plan
from kimaki.opencode.models import Message, PartID
from kimaki.origin import build_tag

DEFAULT = Verbosity.TEXT_AND_ESSENTIAL_TOOLS


def user(mid: str, *texts: str, tagged: bool = False) -> Message:
    parts: list[dict[str, Any]] = [
        {"id": f"{mid}-p{n}", "type": "text", "text": t} for n, t in enumerate(texts)
    ]
    if tagged:
        tag = build_tag("ann", 1, 2, 3)
        parts.append({"id": f"{mid}-tag", "type": "text", "text": tag, "synthetic": True})
    return Message.from_json({"info": {"id": mid, "role": "user"}, "parts": parts})


def assistant(
    mid: str, *parts: dict[str, Any], done: bool = True, finish: str = "stop", error: Any = None
) -> Message:
    info: dict[str, Any] = {"id": mid, "role": "assistant", "time": {"created": 1}}
    if done:
        info["time"]["completed"] = 2
        info["finish"] = finish
    if error is not None:
        info["error"] = error
    return Message.from_json({"info": info, "parts": list(parts)})


def said(pid: str, words: str, *, finished: bool = True) -> dict[str, Any]:
    time = {"start": 1, "end": 2} if finished else {"start": 1}
    return {"id": pid, "type": "text", "text": words if finished else "", "time": time}


def tool(pid: str, name: str, status: str = "completed", **args: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"status": status, "input": args, "output": "out", "title": ""}
    if status == "error":
        state["error"] = "boom"
    return {"id": pid, "type": "tool", "tool": name, "callID": pid, "state": state}


def texts(messages: list[Message], handled: set[PartID] | None = None, **kw: Any) -> list[str]:
    """What the plan posts, footers left out (they have tests of their own)."""
    units = plan(messages, handled or set(), kw.pop("verbosity", DEFAULT)).units
    return [u.text for u in units if not u.key.startswith("footer:")]


def test_prompt_and_reply_in_order() -> None:
    messages = [user("u1", "fix the bug"), assistant("a1", said("t1", "Fixed."))]
    assert texts(messages) == ["» **user:** fix the bug", "⬥ Fixed."]


def test_prompts_from_discord_are_not_echoed_but_recorded_handled() -> None:
    messages = [user("u1", "from discord", tagged=True), assistant("a1", said("t1", "Hi."))]
    result = plan(messages, set(), DEFAULT)
    assert texts(messages) == ["⬥ Hi."]
    assert set(result.skipped) == {"u1-p0", "u1-tag"}


def test_handled_parts_are_never_planned_again() -> None:
    messages = [user("u1", "q"), assistant("a1", said("t1", "one"), said("t2", "two"))]
    first = plan(messages, set(), DEFAULT)
    handled = {p for u in first.units for p in u.parts} | set(first.skipped)
    assert plan(messages, handled, DEFAULT).empty


def test_an_unfinished_visible_part_blocks_what_follows() -> None:
    messages = [
        user("u1", "q"),
        assistant("a1", said("t1", "", finished=False), said("t2", "later"), done=False),
    ]
    result = plan(messages, set(), DEFAULT)
    assert [u.text for u in result.units] == ["» **user:** q"]
    assert result.blocked and result.blocked_at == "a1"


def test_an_unfinished_hidden_part_blocks_nothing_and_is_not_recorded() -> None:
    messages = [
        user("u1", "q"),
        assistant("a1", tool("r1", "read", status="running", filePath="/x"), said("t1", "ok")),
    ]
    result = plan(messages, {PartID("u1-p0")}, DEFAULT)
    assert texts(messages, {PartID("u1-p0")}) == ["⬥ ok"]
    assert "r1" not in result.skipped


def test_hidden_finished_parts_are_skipped_so_raising_verbosity_later_reposts_nothing() -> None:
    messages = [user("u1", "q"), assistant("a1", tool("r1", "read", filePath="/x"), said("t", "k"))]
    quiet = plan(messages, set(), Verbosity.TEXT_ONLY)
    assert "r1" in quiet.skipped
    handled = {p for u in quiet.units for p in u.parts} | set(quiet.skipped)
    assert plan(messages, handled, Verbosity.TOOLS_AND_TEXT).empty


def test_verbosity_decides_tools() -> None:
    messages = [assistant("a1", tool("b1", "bash", command="ls"), said("t1", "done"))]
    assert any("bash" in t for t in texts(messages))
    assert texts(messages, verbosity=Verbosity.TEXT_ONLY) == ["⬥ done"]


def test_only_the_footer_of_a_turn_notifies() -> None:
    step = assistant("a1", tool("b1", "bash", command="ls"), finish="tool-calls")
    final = assistant("a2", said("t1", "all done"))
    units = plan([user("u1", "q"), step, final], set(), DEFAULT).units
    assert [(u.key, u.notify) for u in units] == [
        ("u1-p0", False),
        ("b1", False),
        ("t1", False),
        ("footer:a2", True),
    ]


def test_message_errors_are_posted_once_and_abort_is_a_notice() -> None:
    failed = assistant("a1", error={"name": "APIError", "data": {"message": "quota"}})
    aborted = assistant("a2", error={"name": "MessageAbortedError", "data": {}})
    result = plan([user("u1", "q"), failed, user("u2", "r"), aborted], set(), DEFAULT)
    said_ = [(u.text, u.notify) for u in result.units]
    assert ("✗ the model provider API error: quota", True) in said_
    assert ("⬦ aborted outside Discord (a terminal or another client)", True) in said_
    assert not any(u.key.startswith("footer:") for u in result.units), "errors end turns"
    assert plan([failed], {error_key(failed)}, DEFAULT).empty


def test_an_abort_from_discord_says_who() -> None:
    aborted = assistant("a2", error={"name": "MessageAbortedError", "data": {}})
    context = Context(aborted_by=lambda info: "Ann with /abort" if info.id == "a2" else None)
    result = plan([user("u1", "q"), aborted], set(), DEFAULT, context=context)
    assert [u.text for u in result.units][-1] == "⬦ aborted by Ann with /abort"


def test_a_dead_message_followed_by_a_new_turn_does_not_block() -> None:
    dead = assistant("a1", said("t1", "", finished=False), done=False)
    messages = [user("u1", "q"), dead, user("u2", "again"), assistant("a2", said("t2", "back"))]
    result = plan(messages, set(), DEFAULT)
    assert texts(messages) == ["» **user:** q", "» **user:** again", "⬥ back"]
    assert "t1" in result.skipped and not result.blocked


def test_a_follow_up_written_mid_turn_keeps_the_running_answer() -> None:
    """OpenCode stores the follow-up at once and answers it after the running step."""
    streaming = assistant("a1", said("t1", "", finished=False), done=False)
    mid_turn = [user("u1", "q"), streaming, user("u2", "also check the tests")]
    result = plan(mid_turn, set(), DEFAULT)
    assert result.blocked and "t1" not in result.skipped
    assert [u.text for u in result.units] == ["» **user:** q"]

    handled = set(result.skipped) | {p for u in result.units for p in u.parts}
    finished = assistant("a1", said("t1", "First answer."))
    later = [user("u1", "q"), finished, user("u2", "also check the tests")]
    later.append(assistant("a2", said("t2", "Tests pass.")))
    assert texts(later, handled) == [
        "⬥ First answer.",
        "» **user:** also check the tests",
        "⬥ Tests pass.",
    ]


def test_an_ended_message_with_unfinished_parts_blocks_nothing() -> None:
    aborted = assistant(
        "a1",
        said("t1", "", finished=False),
        done=False,
        error={"name": "MessageAbortedError", "data": {}},
    )
    answer = assistant("a2", said("t2", "Next answer."))
    result = plan([user("u1", "q"), aborted, user("u2", "next"), answer], set(), DEFAULT)
    assert not result.blocked and "t1" in result.skipped
    assert "» **user:** next" in [u.text for u in result.units]


def test_the_newest_prompt_waits_for_its_answer_so_a_half_written_one_is_not_echoed() -> None:
    # OpenCode writes a prompt's parts one by one, kimaki's tag last: read in between,
    # a Discord prompt looks like a terminal's. Nothing of it is planned while it is newest.
    half = user("u1", "look at this")
    early = plan([half], set(), DEFAULT)
    assert early.units == [] and early.skipped == []
    whole = user("u1", "look at this", tagged=True)
    later = plan([whole, assistant("a1", said("t1", "Seen."))], set(), DEFAULT)
    assert not any("look at this" in u.text for u in later.units)
    assert later.units[0].text == "⬥ Seen." and "u1-p0" in later.skipped


def test_synthetic_and_empty_text_renders_nothing() -> None:
    synthetic = {"id": "s1", "type": "text", "text": "ctx", "synthetic": True, "time": {"end": 1}}
    messages = [assistant("a1", synthetic, said("t1", "   "), finish="tool-calls")]
    result = plan(messages, set(), DEFAULT)
    assert result.units == [] and set(result.skipped) == {"s1", "t1"}


def test_units_become_rows_split_to_fit_each_keyed_by_its_part_and_piece() -> None:
    from kimaki.unit_rows import pack_units

    messages = [user("u1", "q"), assistant("a1", said("t1", "short"), said("t2", "x" * 2500))]
    outgoing = pack_units(plan(messages, set(), DEFAULT).units)
    assert [m.key for m in outgoing] == ["u1-p0#0", "t1#0", "t2#0", "t2#1", "footer:a1#0"]
    assert [m.parts for m in outgoing][1:4] == [("t1",), ("t2",), ("t2",)]
    assert all(len(m.content) <= 2000 for m in outgoing)
    assert [m.notify for m in outgoing] == [False, False, False, False, True]
    assert outgoing == pack_units(plan(messages, set(), DEFAULT).units), "deterministic"


def test_a_turn_is_running_until_its_newest_assistant_message_completes() -> None:
    asked = [user("u1", "q")]
    working = [*asked, assistant("a1", tool("r1", "read", status="running"), done=False)]
    answered = [*asked, assistant("a1", said("t1", "done"))]
    failed = [*asked, assistant("a1", done=False, error={"name": "APIError", "data": {}})]
    assert plan(asked, set(), DEFAULT).turn_running
    assert plan(working, set(), DEFAULT).turn_running
    assert not plan(working, set(), DEFAULT).blocked, "a hidden running tool blocks nothing"
    assert not plan(answered, set(), DEFAULT).turn_running
    assert not plan(failed, set(), DEFAULT).turn_running
    assert not plan([], set(), DEFAULT).turn_running


def test_a_file_the_answer_carries_is_posted_as_itself_in_its_place() -> None:
    from kimaki.mirror import FileRef
    from kimaki.store import Outgoing, OutgoingFile
    from kimaki.unit_rows import pack_units

    shot = {"id": "f1", "type": "file", "mime": "image/png", "url": "data:,x", "filename": "s.png"}
    messages = [assistant("a1", said("t1", "Here:"), shot, said("t2", "That was it."))]
    for verbosity in Verbosity:
        units = plan(messages, set(), verbosity).units
        assert [u.file for u in units][:3] == [None, FileRef("data:,x", "image/png", "s.png"), None]

    def as_file(unit: Any) -> Outgoing:
        return Outgoing("file", "", parts=unit.parts, files=(OutgoingFile(Path("/x"), "s.png"),))

    outgoing = pack_units(plan(messages, set(), DEFAULT).units, as_file)
    assert [(m.content, m.parts, len(m.files)) for m in outgoing][:3] == [
        ("⬥ Here:", ("t1",), 0),
        ("", ("f1",), 1),
        ("⬥ That was it.", ("t2",), 0),
    ]
    assert [m.notify for m in outgoing] == [False, False, False, True], "the footer notifies"


def test_files_a_tool_returned_follow_it_except_the_ones_read_looked_at() -> None:
    from kimaki.mirror import FileRef

    def with_files(pid: str, name: str, *files: dict[str, Any]) -> dict[str, Any]:
        part = tool(pid, name, url="http://x")
        part["state"]["attachments"] = list(files)
        return part

    shot = {"type": "file", "mime": "image/png", "url": "data:image/png;base64,AA=="}
    named = {**shot, "filename": "page.png"}
    messages = [
        assistant(
            "a1",
            with_files("k1", "webfetch", shot, named),
            with_files("k2", "read", shot),
            said("t1", "Done."),
        )
    ]
    for verbosity in Verbosity:
        units = plan(messages, set(), verbosity).units
        files = [(u.key, u.file) for u in units if u.file is not None]
        assert files == [
            ("k1/file/0", FileRef(shot["url"], "image/png", "webfetch-1.png")),
            ("k1/file/1", FileRef(shot["url"], "image/png", "page.png")),
        ]
    handled = {PartID(p) for p in ("k1", "k1/file/0", "k1/file/1", "k2", "t1", "footer:a1")}
    assert plan(messages, handled, DEFAULT).units == []
    last = plan([assistant("a2", with_files("k3", "webfetch", shot))], set(), DEFAULT).units
    assert last[-2].file is not None and not last[-2].notify, "a turn ending on a file..."
    assert last[-1].key == "footer:a2" and last[-1].notify, "...notifies with its footer"
