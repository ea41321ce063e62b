"""Rendering parts: assistant text, reasoning, tools, verbosity, prompts, notices, errors."""

from __future__ import annotations

from typing import Any

import pytest

from kimaki.ids import Verbosity
from kimaki.opencode.models import Message, MessageInfo, Part, parse_part
from kimaki.render import (
    render_message_error,
    render_notice,
    render_part,
    render_session_error,
    render_user_message,
    render_user_prompt,
)

ALL = Verbosity.TOOLS_AND_TEXT
ESSENTIAL = Verbosity.TEXT_AND_ESSENTIAL_TOOLS
TEXT = Verbosity.TEXT_ONLY

_ids = iter(range(1_000_000))


def _part(kind: str, **fields: Any) -> Part:
    raw = {"id": f"prt_{next(_ids)}", "sessionID": "ses_1", "messageID": "msg_1", "type": kind}
    return parse_part({**raw, **fields})


def text(value: str, **extra: Any) -> Part:
    return _part("text", text=value, time={"start": 1, "end": 2}, **extra)


def tool(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    status: str = "completed",
    title: str | None = None,
    metadata: dict[str, Any] | None = None,
    error: str | None = None,
) -> Part:
    state: dict[str, Any] = {"status": status, "input": args or {}, "time": {"start": 1, "end": 2}}
    if title is not None:
        state["title"] = title
    if metadata is not None:
        state["metadata"] = metadata
    if status == "completed":
        state["output"] = "ok"
    if error is not None:
        state["error"] = error
    return _part("tool", callID="call_1", tool=name, state=state)


def line(part: Part, verbosity: Verbosity = ALL) -> str | None:
    return render_part(part, verbosity)


# --- assistant text


def test_assistant_text_gets_the_bullet() -> None:
    assert line(text("Done. All tests pass.\n")) == "⬥ Done. All tests pass."


@pytest.mark.parametrize(
    "body",
    [
        "# Heading",
        "## Sub",
        "- item",
        "* item",
        "+ item",
        "> quote",
        "| a | b |\n|---|---|",
        "```py\nx = 1\n```",
        "1. first\n2. second",
        "12) twelfth",
        "-# subtext",
    ],
)
def test_markdown_blocks_are_not_bulleted(body: str) -> None:
    assert line(text(body)) == body


@pytest.mark.parametrize("body", ["**Bold** opener", "*emphasis* here", "3.14 is pi", "-5 degrees"])
def test_inline_openers_keep_the_bullet(body: str) -> None:
    assert line(text(body)) == f"⬥ {body}"


def test_assistant_markdown_passes_through_unescaped() -> None:
    assert line(text("use `__init__.py` and *stars*")) == "⬥ use `__init__.py` and *stars*"


@pytest.mark.parametrize(
    "part",
    [
        text("   \n "),
        text(""),
        text("<system-reminder>", synthetic=True),
        text("compacted away", ignored=True),
    ],
)
def test_empty_synthetic_and_ignored_text_render_nothing(part: Part) -> None:
    assert all(line(part, v) is None for v in Verbosity)


@pytest.mark.parametrize(
    "kind,fields",
    [
        ("step-start", {}),
        ("step-finish", {"reason": "stop", "cost": 0, "tokens": {}}),
        ("patch", {"hash": "abc", "files": ["/a.py"]}),
        ("snapshot", {"snapshot": "abc"}),
        ("agent", {"name": "build"}),
        ("hologram", {"text": "future part type"}),
        ("file", {"mime": "image/png", "url": "data:..."}),
    ],
)
def test_non_content_parts_render_nothing(kind: str, fields: dict[str, Any]) -> None:
    assert all(line(_part(kind, **fields), v) is None for v in Verbosity)


# --- reasoning


def test_reasoning_shows_only_that_thinking_happened_at_full_verbosity() -> None:
    thought = _part("reasoning", text="secret chain of thought", time={"start": 1, "end": 2})
    assert line(thought, ALL) == "┣ thinking"
    assert line(thought, ESSENTIAL) is None
    assert line(thought, TEXT) is None
    assert line(_part("reasoning", text="", time={"start": 1, "end": 2}), ALL) is None


# --- tools


def test_bash_shows_its_command_as_code() -> None:
    part = tool("bash", {"command": "pytest -q tests/unit"}, title="pytest -q tests/unit")
    assert line(part) == "┣ bash `pytest -q tests/unit`"


def test_bash_command_with_markdown_is_not_mangled() -> None:
    part = tool("bash", {"command": "rm -f *_tmp_* && echo `date`"})
    assert line(part) == "┣ bash `` rm -f *_tmp_* && echo `date` ``"


def test_long_bash_command_shows_its_description() -> None:
    command = "python -c '" + "x" * 120 + "'"
    part = tool("bash", {"command": command, "description": "Run the generator"}, title=command)
    assert line(part) == "┣ bash Run the generator"


def test_multiline_bash_command_shows_its_description() -> None:
    part = tool("bash", {"command": "set -e\nmake", "description": "Build it"})
    assert line(part) == "┣ bash Build it"


def test_long_bash_command_without_description_is_cut() -> None:
    command = "echo " + "word " * 40
    rendered = line(tool("bash", {"command": command}))
    assert rendered is not None and rendered.startswith("┣ bash `echo word")
    summary = rendered.removeprefix("┣ bash `").removesuffix("`")
    assert summary.endswith("…") and len(summary) <= 100


def test_multiline_bash_command_without_description_shows_its_first_line() -> None:
    assert line(tool("bash", {"command": "cd src\nmake all"})) == "┣ bash `cd src …`"


def test_bash_title_is_shown_when_it_differs_from_the_command() -> None:
    part = tool("bash", {"command": "make", "description": "Build"}, title="Build the project")
    assert line(part) == "┣ bash _Build the project_ `make`"


def test_edit_counts_lines_from_opencode_filediff_metadata() -> None:
    part = tool(
        "edit",
        {"filePath": "/repo/src/app.py", "oldString": "a", "newString": "b", "replaceAll": True},
        title="src/app.py",
        metadata={"filediff": {"file": "/repo/src/app.py", "additions": 7, "deletions": 3}},
    )
    assert line(part) == "◼︎ edit *src/app.py* (+7-3)"


def test_edit_without_metadata_counts_a_line_diff_of_its_strings() -> None:
    old = "keep\nold one\nold two\nkeep too"
    new = "keep\nnew one\nkeep too\nadded\nadded again"
    part = tool("edit", {"filePath": "/repo/my_file.py", "oldString": old, "newString": new})
    assert line(part) == r"◼︎ edit *my\_file.py* (+3-2)"


def test_write_shows_file_and_line_count() -> None:
    three = tool("write", {"filePath": "/r/a.txt", "content": "1\n2\n3\n"}, title="a.txt")
    one = tool("write", {"filePath": "/r/b.txt", "content": "no newline"})
    assert line(three) == "◼︎ write *a.txt* (3 lines)"
    assert line(one) == "◼︎ write *b.txt* (1 line)"
    assert line(tool("write", {"filePath": "/r/c.txt", "content": ""})) == (
        "◼︎ write *c.txt* (0 lines)"
    )


def test_file_names_are_escaped_inside_emphasis() -> None:
    part = tool("write", {"filePath": "/r/__init__*_x.py", "content": "x"})
    assert line(part) == r"◼︎ write *\_\_init\_\_\*\_x.py* (1 line)"


def test_paths_outside_the_worktree_show_the_basename() -> None:
    part = tool("edit", {"filePath": "/etc/hosts"}, title="../../etc/hosts")
    assert line(part) == "◼︎ edit *hosts* (+0-0)"


def test_read_shows_the_basename() -> None:
    part = tool("read", {"filePath": "/repo/src/kimaki/render.py"}, title="src/kimaki/render.py")
    assert line(part) == "┣ read render.py"


def test_glob_and_grep_show_their_pattern() -> None:
    assert line(tool("glob", {"pattern": "**/*.py"}, title="")) == "┣ glob `**/*.py`"
    grep = tool("grep", {"pattern": "def main", "include": "*.py"}, title="def main")
    assert line(grep) == "┣ grep `def main`"


def test_glob_title_names_the_directory_searched() -> None:
    part = tool("glob", {"pattern": "*.md", "path": "/repo/docs"}, title="docs")
    assert line(part) == "┣ glob _docs_ `*.md`"


def test_webfetch_shows_the_url_without_scheme() -> None:
    url = "https://docs.python.org/3/library/re.html"
    part = tool("webfetch", {"url": url, "format": "markdown"}, title=f"{url} (text/html)")
    assert line(part) == "┣ webfetch docs.python.org/3/library/re.html"


def test_todowrite_shows_only_the_item_in_progress() -> None:
    todos = [
        {"content": "Write parser", "status": "completed", "priority": "high"},
        {"content": "Test the parser", "status": "in_progress", "priority": "high"},
        {"content": "Ship", "status": "pending", "priority": "low"},
    ]
    assert line(tool("todowrite", {"todos": todos}, title="2 todos")) == (
        "┣ todowrite Test the parser"
    )


def test_todowrite_with_nothing_in_progress_renders_nothing() -> None:
    todos = [{"content": "Ship", "status": "completed", "priority": "low"}]
    assert line(tool("todowrite", {"todos": todos}, title="0 todos")) is None


def test_other_tools_show_their_arguments_cut_to_50() -> None:
    prompt = "p" * 80
    args = {"description": "Find callers", "prompt": prompt, "subagent_type": "general"}
    rendered = line(tool("task", args, title="Find callers"))
    cut = "p" * 49 + "…"
    assert (
        rendered == f"┣ task (description: Find callers, prompt: {cut}, subagent\\_type: general)"
    )


def test_non_string_arguments_are_shown_as_json() -> None:
    part = tool("mcp_tool", {"limit": 3, "flags": ["a", "b"], "skip": None})
    assert line(part) == r'┣ mcp\_tool (limit: 3, flags: \["a", "b"\])'


def test_tool_without_arguments_shows_its_name() -> None:
    assert line(tool("plan_exit")) == r"┣ plan\_exit"


def test_unrelated_title_is_shown_in_italics_and_escaped() -> None:
    part = tool("skill", {"name": "pdf"}, title="Loaded skill: pdf_tools")
    assert line(part) == r"┣ skill _Loaded skill: pdf\_tools_ (name: pdf)"


def test_apply_patch_lists_changed_files_with_counts() -> None:
    files = [
        {
            "filePath": "/r/a.py",
            "relativePath": "a.py",
            "type": "update",
            "additions": 2,
            "deletions": 1,
        },
        {
            "filePath": "/r/b.py",
            "relativePath": "src/b.py",
            "type": "add",
            "additions": 5,
            "deletions": 0,
        },
    ]
    title = "Success. Updated the following files:\nM a.py\nA src/b.py"
    part = tool("apply_patch", {"patchText": "..."}, title=title, metadata={"files": files})
    assert line(part) == "◼︎ apply\\_patch *a.py* (+2-1), *src/b.py* (+5-0)"


def test_apply_patch_without_metadata_names_files_from_the_patch() -> None:
    patch = "\n".join(
        [
            "*** Begin Patch",
            "*** Update File: src/x.py",
            "@@",
            "-a",
            "+b",
            "*** Add File: y.md",
            "+hi",
            "*** End Patch",
        ]
    )
    part = tool("apply_patch", {"patchText": patch}, status="running")
    assert line(part) == "◼︎ apply\\_patch *src/x.py*, *y.md*"


def test_tool_error_shows_a_short_one_line_error() -> None:
    error = "Error: File /repo/missing_file.py not found\n    at read (tool.ts:12)\n" + "x" * 300
    part = tool("read", {"filePath": "/repo/missing_file.py"}, status="error", error=error)
    assert line(part) == r"⨯ read _Error: File /repo/missing\_file.py not found_"


def test_long_tool_error_is_cut() -> None:
    part = tool("bash", {"command": "x"}, status="error", error="boom " * 100)
    rendered = line(part)
    assert rendered is not None and rendered.startswith("⨯ bash _boom boom")
    assert rendered.endswith("…_") and len(rendered) < 220


def test_file_changing_tools_error_with_the_error_prefix() -> None:
    part = tool("edit", {"filePath": "/a"}, status="error", error="The user rejected this")
    assert line(part) == "⨯ edit _The user rejected this_"


# --- verbosity


@pytest.mark.parametrize(
    "part,at_all,at_essential,at_text",
    [
        (text("hello"), True, True, True),
        (tool("bash", {"command": "ls"}), True, True, False),
        (tool("edit", {"filePath": "/a"}), True, True, False),
        (tool("write", {"filePath": "/a", "content": ""}), True, True, False),
        (tool("task", {"description": "d"}), True, True, False),
        (tool("some_mcp_tool", {"q": "x"}), True, True, False),
        (tool("read", {"filePath": "/a"}), True, False, False),
        (tool("glob", {"pattern": "*"}), True, False, False),
        (tool("grep", {"pattern": "x"}), True, False, False),
        (tool("list", {"path": "/"}), True, False, False),
        (tool("webfetch", {"url": "https://x.y"}), True, False, False),
        (tool("bash", {"command": "x"}, status="error", error="e"), True, True, False),
        (tool("read", {"filePath": "/a"}, status="error", error="e"), True, False, False),
    ],
)
def test_verbosity_matrix(part: Part, at_all: bool, at_essential: bool, at_text: bool) -> None:
    shown = [line(part, v) is not None for v in (ALL, ESSENTIAL, TEXT)]
    assert shown == [at_all, at_essential, at_text]


# --- prompts, notices, errors


def test_user_prompt_is_prefixed() -> None:
    assert render_user_prompt("  fix the bug\n") == "» **user:** fix the bug"


def test_user_prompt_is_cut_at_1000_characters() -> None:
    rendered = render_user_prompt("a" * 1500)
    assert rendered == "» **user:** " + "a" * 1000 + "..."
    assert render_user_prompt("b" * 1000) == "» **user:** " + "b" * 1000


def test_user_prompt_cut_keeps_an_emoji_whole() -> None:
    family = "👨‍👩‍👧"
    rendered = render_user_prompt("a" * 998 + family + "tail")
    assert rendered == "» **user:** " + "a" * 998 + "..."


def test_user_message_renders_visible_words_without_the_tag() -> None:
    message = Message.from_json(
        {
            "info": {"id": "msg_u", "role": "user"},
            "parts": [
                {"id": "p1", "type": "text", "text": "refactor this"},
                {"id": "p2", "type": "text", "text": "<discord-user />", "synthetic": True},
            ],
        }
    )
    assert render_user_message(message) == "» **user:** refactor this"
    only_tag = Message(message.info, message.parts[1:])
    assert render_user_message(only_tag) is None


def test_notice_and_session_error_prefixes() -> None:
    assert render_notice("thread renamed") == "⬦ thread renamed"
    assert render_session_error("Rate limit exceeded") == (
        "✗ opencode session error: Rate limit exceeded"
    )


def test_message_error_uses_the_human_message_and_treats_abort_as_a_notice() -> None:
    api = MessageInfo.from_json(
        {"id": "m", "role": "assistant", "error": {"name": "APIError", "data": {"message": "502"}}}
    )
    aborted = MessageInfo.from_json(
        {"id": "m", "role": "assistant", "error": {"name": "MessageAbortedError", "data": {}}}
    )
    fine = MessageInfo.from_json({"id": "m", "role": "assistant"})
    assert render_message_error(api) == "✗ the model provider API error: 502"
    assert (
        render_message_error(aborted) == "⬦ aborted outside Discord (a terminal or another client)"
    )
    assert render_message_error(aborted, aborted_by="Ann with /abort") == (
        "⬦ aborted by Ann with /abort"
    )
    assert render_message_error(fine) is None
