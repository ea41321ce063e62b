"""Tool calls as one Discord line: `┣ tool _title_ summary`; `◼︎` marks file changes, `⨯` errors."""

from __future__ import annotations

import difflib
import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kimaki.ids import Verbosity
from kimaki.opencode.models import ToolPart
from kimaki.render.graphemes import safe_cut
from kimaki.render.markdown import code_span, escape_markdown, one_line

READ_ONLY_TOOLS = frozenset(
    {
        "read",
        "glob",
        "grep",
        "list",
        "ls",
        "lsp",
        "todoread",
        "webfetch",
        "websearch",
        "codesearch",
    }
)
"""Tools that only look things up; hidden at `text_and_essential_tools`."""

FILE_CHANGING_TOOLS = frozenset({"edit", "write", "apply_patch", "multiedit", "patch"})
"""Tools drawn with `◼︎` instead of `┣`."""

TOOL_PREFIX = "┣"
FILE_TOOL_PREFIX = "◼︎"
TOOL_ERROR_PREFIX = "⨯"

_BASH_LIMIT = 100
_VALUE_LIMIT = 50
_TITLE_LIMIT = 80
_ERROR_LIMIT = 200
_URL_LIMIT = 100
_SESSION_ERROR_LIMIT = 1000
_REDUNDANT_TITLE_TOOLS = frozenset(
    {"read", "edit", "write", "apply_patch", "multiedit", "patch", "grep", "webfetch", "todowrite"}
)


def tool_visible(tool: str, verbosity: Verbosity) -> bool:
    """Whether a tool's line (success or error) shows at this verbosity."""
    if verbosity is Verbosity.TOOLS_AND_TEXT:
        return True
    if verbosity is Verbosity.TEXT_AND_ESSENTIAL_TOOLS:
        return tool not in READ_ONLY_TOOLS
    return False


def render_tool(part: ToolPart) -> str | None:
    """`┣ tool _title_ summary`, `◼︎` for file changes, `⨯ tool _error_` when it failed.

    None only for a todowrite with nothing in progress: a plan update with nothing to say.
    """
    name = escape_markdown(part.tool or "tool")
    if part.state.status == "error":
        error = one_line(part.state.error or "failed", _ERROR_LIMIT)
        return f"{TOOL_ERROR_PREFIX} {name} _{escape_markdown(error)}_"
    summary = _summary(part)
    if summary is None:
        return None
    words = [_tool_prefix(part.tool), name]
    title = _title(part, summary)
    if title:
        words.append(f"_{escape_markdown(title)}_")
    if summary.markdown:
        words.append(summary.markdown)
    return " ".join(words)


def _tool_prefix(tool: str) -> str:
    return FILE_TOOL_PREFIX if tool in FILE_CHANGING_TOOLS else TOOL_PREFIX


# --- tool summaries


@dataclass(frozen=True)
class _Summary:
    markdown: str
    """What is shown, already escaped or code-spanned."""
    plain: str
    """The same without markup, to compare with the title."""


def _summary(part: ToolPart) -> _Summary | None:
    """The per-tool summary (empty: just the name); None: the call shows nothing at all."""
    tool, args = part.tool, part.state.input
    if tool == "bash":
        return _bash_summary(args)
    if tool in ("edit", "multiedit"):
        return _edit_summary(part)
    if tool == "write":
        return _write_summary(part)
    if tool == "read":
        name = one_line(posixpath.basename(_arg(args, "filePath", "path")), _URL_LIMIT)
        return _Summary(escape_markdown(name), name)
    if tool in ("glob", "grep"):
        return _code_summary(_arg(args, "pattern"))
    if tool == "webfetch":
        return _url_summary(_arg(args, "url"))
    if tool == "todowrite":
        return _todo_summary(args)
    if tool in ("apply_patch", "patch"):
        return _patch_summary(part)
    return _generic_summary(args)


def _bash_summary(args: Mapping[str, Any]) -> _Summary:
    command = _arg(args, "command").strip()
    if command and "\n" not in command and len(command) <= _BASH_LIMIT:
        return _code_summary(command)
    description = one_line(_arg(args, "description"), _BASH_LIMIT)
    if description:
        return _Summary(escape_markdown(description), description)
    first_line, _, rest = command.partition("\n")
    cut = one_line(first_line, _BASH_LIMIT)
    if rest.strip() and not cut.endswith("…"):
        cut = f"{cut[: safe_cut(cut, _BASH_LIMIT - 2, prefer_space=False)]} …"
    return _code_summary(cut)


def _edit_summary(part: ToolPart) -> _Summary:
    added, removed = _edit_counts(part)
    return _file_summary(_display_path(part), f"(+{added}-{removed})")


def _edit_counts(part: ToolPart) -> tuple[int, int]:
    filediff = part.state.metadata.get("filediff")
    if isinstance(filediff, Mapping):
        added, removed = _count(filediff.get("additions")), _count(filediff.get("deletions"))
        if added is not None and removed is not None:
            return added, removed
    args = part.state.input
    edits = args.get("edits")
    pairs = (
        [e for e in edits if isinstance(e, Mapping)] if isinstance(edits, list) else [args]
    )  # multiedit carries a list of edits
    totals = [_line_diff(_arg(e, "oldString"), _arg(e, "newString")) for e in pairs]
    return sum(a for a, _ in totals), sum(r for _, r in totals)


def _count(value: object) -> int | None:
    """A line count from JSON, or None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _line_diff(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed going from `old` to `new`, as a line diff counts them."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    added = removed = 0
    for op, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if op != "equal":
            removed += old_end - old_start
            added += new_end - new_start
    return added, removed


def _write_summary(part: ToolPart) -> _Summary:
    lines = _line_count(_arg(part.state.input, "content"))
    return _file_summary(_display_path(part), f"({lines} line{'' if lines == 1 else 's'})")


def _line_count(content: str) -> int:
    if not content:
        return 0
    return content.count("\n") + (0 if content.endswith("\n") else 1)


def _display_path(part: ToolPart) -> str:
    """The worktree-relative path when OpenCode's title gives it, else the basename."""
    path = _arg(part.state.input, "filePath", "path")
    title = (part.state.title or "").strip()
    inside = title and not title.startswith("../") and "\n" not in title
    if inside and path.endswith(title) and path[: -len(title)].endswith(("/", "\\")):
        return title
    return posixpath.basename(path.replace("\\", "/")) or path


def _file_summary(name: str, suffix: str = "") -> _Summary:
    name = one_line(name, _URL_LIMIT) or "?"
    markdown = f"*{escape_markdown(name)}*"
    return _Summary(f"{markdown} {suffix}" if suffix else markdown, f"{name} {suffix}".strip())


def _url_summary(url: str) -> _Summary:
    bare = one_line(re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip()), _URL_LIMIT)
    return _Summary(escape_markdown(bare), bare)


def _todo_summary(args: Mapping[str, Any]) -> _Summary | None:
    todos = args.get("todos")
    for todo in todos if isinstance(todos, list) else []:
        if isinstance(todo, Mapping) and todo.get("status") == "in_progress":
            content = one_line(_arg(todo, "content"), _BASH_LIMIT)
            if content:
                return _Summary(escape_markdown(content), content)
    return None


def _patch_summary(part: ToolPart) -> _Summary:
    """Each changed file with its counts, from metadata; else the file names in the patch."""
    files = part.state.metadata.get("files")
    entries: list[tuple[str, str]] = []
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, Mapping):
            continue
        name = _arg(item, "relativePath") or posixpath.basename(_arg(item, "filePath"))
        added, removed = _count(item.get("additions")), _count(item.get("deletions"))
        counts = f"(+{added}-{removed})" if added is not None and removed is not None else ""
        if name:
            entries.append((name, counts))
    if not entries:
        patch = _arg(part.state.input, "patchText", "patch")
        names = re.findall(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", patch, re.MULTILINE)
        entries = [(n.strip(), "") for n in names]
    if not entries:
        return _Summary("", "")
    summaries = [_file_summary(name, counts) for name, counts in entries]
    return _Summary(", ".join(s.markdown for s in summaries), ", ".join(s.plain for s in summaries))


def _generic_summary(args: Mapping[str, Any]) -> _Summary:
    pairs = [(str(k), _value_text(v)) for k, v in args.items() if v not in (None, "", [], {})]
    if not pairs:
        return _Summary("", "")
    plain = ", ".join(f"{k}: {v}" for k, v in pairs)
    markdown = ", ".join(f"{escape_markdown(k)}: {escape_markdown(v)}" for k, v in pairs)
    return _Summary(f"({markdown})", f"({plain})")


def _value_text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return one_line(text, _VALUE_LIMIT)


def _code_summary(text: str) -> _Summary:
    return _Summary(code_span(text), text)


def _title(part: ToolPart, summary: _Summary) -> str | None:
    """OpenCode's title for the call, when it tells the reader something the summary does not."""
    if part.tool in _REDUNDANT_TITLE_TOOLS:
        return None
    title = one_line(part.state.title or "", _TITLE_LIMIT)
    if not title:
        return None
    full = _normalize(part.state.title or "")
    inputs = {_normalize(v) for v in part.state.input.values() if isinstance(v, str)}
    shown = _normalize(summary.plain)
    if full in inputs or (shown and (full in shown or shown in full)):
        return None
    return title


def _arg(args: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str):
            return value
    return ""


def _normalize(text: str) -> str:
    return " ".join(text.split()).casefold()
