"""OpenCode parts → Discord text, and Discord-sized messages out of it. Pure: no I/O.

The conventions (prefixes, summaries, verbosity) are those of reference/rendering.md. Where it
is silent, these choices hold:

Text
    The bullet is left off only before a markdown *block* (heading, list item `- `/`* `/`+ `,
    quote, table, fence, `1.`/`1)` list, `-#` subtext); an inline opener such as `**bold**`
    keeps it. Assistant text passes through as markdown; user prompts are not escaped either.

Verbosity
    `text_and_essential_tools` hides the read-only lookups in `READ_ONLY_TOOLS`: local reads
    (read, glob, grep, list, lsp…) *and* web lookups (webfetch, websearch, codesearch) — they
    change nothing, and a thread full of fetches buries what the agent did. A tool error shows
    exactly where the tool's success line would: `text_only` shows no tool errors (the model
    usually explains a failure in its own text; session errors are rendered separately and
    always shown). Reasoning shows only at `tools_and_text`, and only if it has text.

Tool lines
    `_title_` is OpenCode's `state.title`, shown only when it adds something: never for tools
    whose title restates the summary (read, edit, write, patches, grep, webfetch, todowrite),
    and never when it equals an input value or overlaps the summary (bash's title is its
    command; task's its description). A shown title is one line, at most 80 characters.
    Literal text a user may want to copy (a bash command, a glob/grep pattern) is an inline
    code span; names, paths and prose are markdown-escaped instead.
    Edit counts come from `metadata.filediff.additions/deletions` (a real line diff of the whole
    file, exact even with replaceAll); without it (an edit that errored, or another OpenCode
    version) a line diff of oldString → newString.
    Edit and write name the worktree-relative path OpenCode gives as the title, else the
    file's basename; read shows the basename as plain text. A todowrite with no item in
    progress renders nothing.

Notification
    Intermediate output is sent silently. The messages that notify are a session error and the
    last message of a finished run; `pack(..., notify=keys)` marks the chunk that carries the
    final piece of each such key (`Chunk.notify`), so a split part pings once.

Length
    Discord counts message length in Unicode code points (its API is Python; confirmed by
    Discord staff in discord-api-docs#1315), i.e. `len(str)`. Splitting still never separates
    a surrogate pair or a grapheme cluster (emoji ZWJ sequences, variation selectors, skin
    tones, keycaps, flags, combining marks, Hangul jamo), so nothing renders broken.
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kimaki.ids import Verbosity
from kimaki.opencode.models import Message, MessageInfo, Part, ReasoningPart, TextPart, ToolPart

MESSAGE_LIMIT = 2000
"""Discord's maximum message content length, in code points."""

USER_PROMPT_LIMIT = 1000
MIN_SPLIT_LIMIT = 100
"""Smallest limit `split_message` accepts: room for a reopened fence, its closer and content."""

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
TEXT_PREFIX = "⬥"
USER_PREFIX = "»"
NOTICE_PREFIX = "⬦"
SESSION_ERROR_PREFIX = "✗"

_BASH_LIMIT = 100
_VALUE_LIMIT = 50
_TITLE_LIMIT = 80
_ERROR_LIMIT = 200
_URL_LIMIT = 100
_SESSION_ERROR_LIMIT = 1000
_REDUNDANT_TITLE_TOOLS = frozenset(
    {"read", "edit", "write", "apply_patch", "multiedit", "patch", "grep", "webfetch", "todowrite"}
)

# --- parts


def render_part(part: Part, verbosity: Verbosity) -> str | None:
    """The line(s) for one part, or None when it shows nothing at this verbosity.

    Callers pass finished parts (`part.is_finished`): over REST an unfinished text part reads
    empty, and None here would then be mistaken for "nothing to show".
    """
    if isinstance(part, TextPart):
        return render_assistant_text(part.text) if _is_visible_text(part) else None
    if isinstance(part, ReasoningPart):
        if verbosity is Verbosity.TOOLS_AND_TEXT and part.text.strip():
            return f"{TOOL_PREFIX} thinking"
        return None
    if isinstance(part, ToolPart) and tool_visible(part.tool, verbosity):
        return render_tool(part)
    return None


def tool_visible(tool: str, verbosity: Verbosity) -> bool:
    """Whether a tool's line (success or error) shows at this verbosity."""
    if verbosity is Verbosity.TOOLS_AND_TEXT:
        return True
    if verbosity is Verbosity.TEXT_AND_ESSENTIAL_TOOLS:
        return tool not in READ_ONLY_TOOLS
    return False


def render_assistant_text(text: str) -> str | None:
    """`⬥ text`, without the bullet when the text opens with a markdown block."""
    body = text.strip()
    if not body:
        return None
    if _starts_with_markdown_block(body):
        return body
    return f"{TEXT_PREFIX} {body}"


def render_tool(part: ToolPart) -> str | None:
    """`┣ tool _title_ summary`, `◼︎` for file changes, `⨯ tool _error_` when it failed.

    None only for a todowrite with nothing in progress: a plan update with nothing to say.
    """
    name = escape_markdown(part.tool or "tool")
    if part.state.status == "error":
        error = _one_line(part.state.error or "failed", _ERROR_LIMIT)
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


def render_user_prompt(text: str) -> str:
    """A prompt typed outside Discord, shown so the thread reads as the whole conversation."""
    body = text.strip()
    if len(body) > USER_PROMPT_LIMIT:
        body = body[: _safe_cut(body, USER_PROMPT_LIMIT, prefer_space=False)] + "..."
    return f"{USER_PREFIX} **user:** {body}"


def render_user_message(message: Message) -> str | None:
    """A user message's visible words as a prompt line (synthetic parts, like the tag, excluded)."""
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart) and _is_visible_text(p))
    return render_user_prompt(text) if text.strip() else None


def render_notice(text: str) -> str:
    """A line from kimaki itself (not from the session)."""
    return f"{NOTICE_PREFIX} {text.strip()}"


def render_session_error(message: str) -> str:
    """An error that ended the session's run; callers send it with a notification."""
    body = message.strip() or "unknown error"
    if len(body) > _SESSION_ERROR_LIMIT:
        body = body[: _safe_cut(body, _SESSION_ERROR_LIMIT, prefer_space=True)] + "…"
    return f"{SESSION_ERROR_PREFIX} opencode session error: {body}"


def render_message_error(info: MessageInfo) -> str | None:
    """The error line of an assistant message, or None when it has none.

    An abort is somebody's decision, not a failure, so it is a notice rather than an error.
    """
    if not info.error:
        return None
    if info.error_name == "MessageAbortedError":
        return render_notice("aborted")
    return render_session_error(info.error_message or info.error_name or "unknown error")


def _is_visible_text(part: TextPart) -> bool:
    return not part.synthetic and not part.ignored and bool(part.text.strip())


_MARKDOWN_BLOCK = re.compile(r"(#|>|\||```|[-*+](\s|$)|-#\s|\d{1,9}[.)](\s|$))")


def _starts_with_markdown_block(text: str) -> bool:
    """Headings, quotes, tables, fences, lists: a bullet in front would break them.

    `**bold**` or `*emphasis*` openers are inline, so they keep the bullet.
    """
    return _MARKDOWN_BLOCK.match(text) is not None


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
        name = _one_line(posixpath.basename(_arg(args, "filePath", "path")), _URL_LIMIT)
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
    description = _one_line(_arg(args, "description"), _BASH_LIMIT)
    if description:
        return _Summary(escape_markdown(description), description)
    first_line, _, rest = command.partition("\n")
    cut = _one_line(first_line, _BASH_LIMIT)
    if rest.strip() and not cut.endswith("…"):
        cut = f"{cut[: _safe_cut(cut, _BASH_LIMIT - 2, prefer_space=False)]} …"
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
    name = _one_line(name, _URL_LIMIT) or "?"
    markdown = f"*{escape_markdown(name)}*"
    return _Summary(f"{markdown} {suffix}" if suffix else markdown, f"{name} {suffix}".strip())


def _url_summary(url: str) -> _Summary:
    bare = _one_line(re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip()), _URL_LIMIT)
    return _Summary(escape_markdown(bare), bare)


def _todo_summary(args: Mapping[str, Any]) -> _Summary | None:
    todos = args.get("todos")
    for todo in todos if isinstance(todos, list) else []:
        if isinstance(todo, Mapping) and todo.get("status") == "in_progress":
            content = _one_line(_arg(todo, "content"), _BASH_LIMIT)
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
    return _one_line(text, _VALUE_LIMIT)


def _code_summary(text: str) -> _Summary:
    return _Summary(code_span(text), text)


def _title(part: ToolPart, summary: _Summary) -> str | None:
    """OpenCode's title for the call, when it tells the reader something the summary does not."""
    if part.tool in _REDUNDANT_TITLE_TOOLS:
        return None
    title = _one_line(part.state.title or "", _TITLE_LIMIT)
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


def _one_line(text: str, limit: int) -> str:
    """The first non-blank line, whitespace collapsed, cut to `limit` with `…`."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    return line[: _safe_cut(line, limit - 1, prefer_space=False)].rstrip() + "…"


# --- markdown


_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|\[\]<])")


def escape_markdown(text: str) -> str:
    """Escape what Discord would read as formatting, links, mentions or emoji in a summary.

    Only for text kimaki composes (file names, titles, values); assistant text is markdown
    written on purpose and passes through.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """`text` as inline code, delimited so backticks inside it cannot end it early.

    Discord has no inline span longer than two backticks (three open a block), so text with
    a double backtick falls back to escaped plain text.
    """
    if "`" not in text:
        return f"`{text}`" if text else ""
    if "``" in text:
        return escape_markdown(text)
    return f"`` {text} ``"


# --- splitting


_MAX_FENCE_RUN = 10
_FENCE_OPEN = re.compile(r"^\s*(`{3,10})([^`]*)$")
_FENCE_CLOSE = re.compile(r"^\s*(`{3,10})\s*$")
"""Fence lines: a run of 3 to 10 backticks starting a line, an info string without backticks.

A line that is only a run closes an open fence whose run is not longer; inside a fence an
opener-like line (`\u0060\u0060\u0060js`) is code. Runs of more than ten backticks and
backticks in the middle of a line are left to Discord.
"""


@dataclass(frozen=True)
class _Fence:
    opener: str
    """The line that opened it."""
    marker: str
    """Its backtick run; the closer added at a cut."""
    reopen: str
    """What reopens it at the top of the next message: the run and the language."""


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` as messages of at most `limit` code points, cut on line boundaries.

    A line longer than a message is cut after whitespace when there is some in the second
    half of the room, else at the last grapheme boundary. A code fence open at a cut is
    closed there and reopened (with its language) in the next message; one left open at the
    end is closed. Chunks never start or end with blank lines and are never blank. Nothing
    but whitespace at the cuts is lost.
    """
    if limit < MIN_SPLIT_LIMIT:
        raise ValueError(f"limit must be at least {MIN_SPLIT_LIMIT}, got {limit}")
    return _Splitter(limit).split(text)


class _Splitter:
    """One pass over the lines, tracking the open fence and the message being filled."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.lines: list[str] = []
        self.fence: _Fence | None = None
        self.head_only = False
        """The message holds only the fence line carried over from the previous one."""
        self.head_carried = False
        """That line is the text's own opener (moved), not a reopen kimaki made up."""
        self.opened_last = False
        """The message's last line opened the current fence (a block with nothing in it yet)."""

    def split(self, text: str) -> list[str]:
        for line in text.split("\n"):
            rest: str | None = line
            while rest is not None:
                rest = self._place(rest)
        self._flush(final=True)
        return self.chunks

    def _place(self, line: str) -> str | None:
        """Put `line` into the current message, or its head; return what is left to place.

        A line too long for a message is cut, and its head is then placed as a line in its
        own right: a head that looks like a fence line acts as one, so the fence count of
        every message stays true to what Discord will draw.
        """
        fence = self.fence
        if fence is not None and _closes(line, fence):
            self._add_closer(line.strip())
            return None
        after = fence if fence is not None else _opens(line, self.limit)
        if self._fits(line, after):
            self._append(line, after, opens=fence is None and after is not None)
            return None
        if not self._is_empty():
            self._flush()
            return line
        # Room for the head whatever it turns out to be, even a fence opener needing a closer.
        reserve = self._reserve(after)
        if line.lstrip().startswith("```"):
            reserve = max(reserve, 1 + _MAX_FENCE_RUN)
        room = self.limit - self._used() - (1 if self.lines else 0) - reserve
        cut = _safe_cut(line, room, prefer_space=True)
        self._place(line[:cut])
        self._flush()
        return line[cut:]

    def _add_closer(self, closer: str) -> None:
        if self._fits(closer, None):
            self._append(closer, None, opens=False)
            return
        self._flush()  # closes the fence with its own marker: the longer real closer is dropped
        self.lines, self.fence = [], None
        self.head_only = self.head_carried = self.opened_last = False

    def _fits(self, line: str, after: _Fence | None) -> bool:
        used = self._used() + (1 if self.lines else 0) + len(line)
        return used + self._reserve(after) <= self.limit

    def _reserve(self, fence: _Fence | None) -> int:
        return 0 if fence is None else 1 + len(fence.marker)

    def _used(self) -> int:
        return sum(len(ln) for ln in self.lines) + max(len(self.lines) - 1, 0)

    def _is_empty(self) -> bool:
        return not self.lines or self.head_only

    def _append(self, line: str, after: _Fence | None, opens: bool) -> None:
        self.lines.append(line)
        self.fence = after
        self.head_only = False
        self.opened_last = opens

    def _flush(self, *, final: bool = False) -> None:
        fence, lines, head, carried = self.fence, list(self.lines), None, False
        if fence is not None:
            head = fence.reopen
            if self.head_only and not (final and self.head_carried):
                lines = []  # only the reopened fence: nothing to send
            elif self.opened_last and not final and len(fence.opener) <= self.limit // 4:
                head, carried = lines.pop(), True  # an empty block's opener moves on
            else:
                lines.append(fence.marker)
        content = "\n".join(lines).strip("\n")
        if content.strip():
            self.chunks.append(content)
        self.lines = [head] if head is not None else []
        self.head_only = head is not None
        self.head_carried = carried
        self.opened_last = False


def _opens(line: str, limit: int) -> _Fence | None:
    match = _FENCE_OPEN.match(line)
    if match is None:
        return None
    marker, info = match.group(1), match.group(2).split()
    reopen = marker + info[0] if info else marker
    if len(reopen) > limit // 4:
        reopen = marker
    return _Fence(line, marker, reopen)


def _closes(line: str, fence: _Fence) -> bool:
    match = _FENCE_CLOSE.match(line)
    return match is not None and len(match.group(1)) >= len(fence.marker)


# --- grapheme-safe cuts


_ZWJ = 0x200D


def _safe_cut(text: str, limit: int, *, prefer_space: bool) -> int:
    """An index `0 < i <= limit` where `text` may be cut, or `len(text)` if it fits.

    Prefers cutting after whitespace in the second half of the room, then any grapheme
    boundary; a single cluster longer than the room (pathological) is cut between code
    points, still never inside a surrogate pair.
    """
    if len(text) <= limit:
        return len(text)
    limit = max(limit, 1)
    if prefer_space:
        for i in range(limit, max(limit // 2, 1) - 1, -1):
            if text[i - 1].isspace() and is_grapheme_boundary(text, i):
                return i
    for i in range(limit, 0, -1):
        if is_grapheme_boundary(text, i):
            return i
    if limit > 1 and _is_high_surrogate(text[limit - 1]) and _is_low_surrogate(text[limit]):
        return limit - 1
    return limit


def is_grapheme_boundary(text: str, i: int) -> bool:
    """Whether cutting `text` at index `i` keeps every user-perceived character whole.

    A conservative subset of UAX #29 that covers what models and people actually write.
    """
    if i <= 0 or i >= len(text):
        return True
    before, after = ord(text[i - 1]), ord(text[i])
    if _is_high_surrogate(text[i - 1]) and _is_low_surrogate(text[i]):
        return False
    if (before, after) == (0x0D, 0x0A) or _ZWJ in (before, after):
        return False
    if _extends(after) or _hangul_joins(before, after):
        return False
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        run = 0
        while i - run - 1 >= 0 and _is_regional_indicator(ord(text[i - run - 1])):
            run += 1
        return run % 2 == 0  # flags pair up from the left
    return True


def _extends(code: int) -> bool:
    """Combining marks, variation selectors, skin tones, emoji tags, ZWNJ: glued to the left."""
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F or code == 0x200C:
        return True
    return unicodedata.category(chr(code)) in ("Mn", "Me", "Mc")


def _hangul_joins(before: int, after: int) -> bool:
    leading = 0x1100 <= before <= 0x115F or 0xA960 <= before <= 0xA97F
    vowel_or_trailing = 0x1160 <= after <= 0x11FF or 0xD7B0 <= after <= 0xD7FF
    syllable = 0xAC00 <= after <= 0xD7A3
    return vowel_or_trailing or (leading and (syllable or 0x1100 <= after <= 0x115F))


def _is_regional_indicator(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF


def _is_high_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDBFF


def _is_low_surrogate(char: str) -> bool:
    return 0xDC00 <= ord(char) <= 0xDFFF


# --- packing into messages

K = TypeVar("K")


@dataclass(frozen=True)
class Piece(Generic[K]):
    """One piece of one rendered item: `index` of `count` pieces that item was split into."""

    key: K
    index: int
    count: int

    @property
    def is_last(self) -> bool:
        return self.index == self.count - 1


@dataclass(frozen=True)
class Chunk(Generic[K]):
    """One Discord message: its content and, in order, the pieces of items it carries."""

    content: str
    pieces: tuple[Piece[K], ...]
    notify: bool = False
    """Send with a notification; otherwise send silently (`suppress_notifications`)."""

    @property
    def keys(self) -> tuple[K, ...]:
        return tuple(p.key for p in self.pieces)


def pack(
    items: Iterable[tuple[K, str]],
    limit: int = MESSAGE_LIMIT,
    *,
    notify: Collection[K] = (),
) -> list[Chunk[K]]:
    """Rendered items, in order, in as few messages as possible (joined by newlines).

    An item is split only when it alone exceeds `limit`; its pieces are then packed like
    items, so its last piece may share a message with what follows. The result depends only
    on the input, so a retry builds the same messages. Blank items produce no piece. A chunk
    notifies when it carries the last piece of a key in `notify`.
    """
    chunks: list[Chunk[K]] = []
    content: list[str] = []
    pieces: list[Piece[K]] = []
    size = 0

    def flush() -> None:
        if content:
            loud = any(p.is_last and p.key in notify for p in pieces)
            chunks.append(Chunk("\n".join(content), tuple(pieces), loud))
        content.clear()
        pieces.clear()

    for key, text in items:
        parts = split_message(text, limit)
        for index, part in enumerate(parts):
            if content and size + 1 + len(part) > limit:
                flush()
            size = len(part) if not content else size + 1 + len(part)
            content.append(part)
            pieces.append(Piece(key, index, len(parts)))
    flush()
    return chunks


def batch(rendered: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """`pack` for callers that only need the message contents."""
    return [chunk.content for chunk in pack(enumerate(rendered), limit)]
