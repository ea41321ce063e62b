"""OpenCode parts → Discord text, and Discord-sized messages out of it. Pure: no I/O.

Modules: `parts` (text, prompts, notices, errors), `tools` (tool lines and their
summaries), `markdown` (escaping, code spans, one-line cuts), `graphemes` (where text may
be cut), `split` (fence-safe splitting), `footer` (the line under a finished turn).
Packing lines into as few messages as possible happens when they are sent (`kimaki.packing`).

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
    Intermediate output is sent silently. What notifies is one line per turn: the footer
    under a turn that ended (`footer`), the error a turn ended with, or the line saying it
    was aborted; prompts that wait on a person notify too. A split line notifies with its
    last piece only, so it pings once.

Errors
    One line each, saying what happened in a person's words (`render_message_error` by
    `RunError.kind`): the provider refused the key, a rate limit or quota, the provider's
    API failing, the context window overflowing, the answer hitting the output limit. A
    retry OpenCode makes is a notice replaced with each attempt (`render_retry`).

Length
    Discord counts message length in Unicode code points (its API is Python; confirmed by
    Discord staff in discord-api-docs#1315), i.e. `len(str)`. Splitting still never separates
    a surrogate pair or a grapheme cluster (emoji ZWJ sequences, variation selectors, skin
    tones, keycaps, flags, combining marks, Hangul jamo), so nothing renders broken.
"""

from __future__ import annotations

from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.render.footer import TurnFigures, render_footer
from kimaki.render.graphemes import is_grapheme_boundary
from kimaki.render.markdown import code_span, escape_markdown
from kimaki.render.parts import (
    NOTICE_PREFIX,
    SESSION_ERROR_PREFIX,
    TEXT_PREFIX,
    USER_PREFIX,
    render_assistant_text,
    render_compaction,
    render_message_error,
    render_notice,
    render_part,
    render_retry,
    render_session_error,
    render_user_message,
    render_user_prompt,
)
from kimaki.render.split import MIN_SPLIT_LIMIT, split_message
from kimaki.render.tools import (
    FILE_CHANGING_TOOLS,
    FILE_TOOL_PREFIX,
    READ_ONLY_TOOLS,
    TOOL_ERROR_PREFIX,
    TOOL_PREFIX,
    render_tool,
    tool_visible,
)

__all__ = [
    "FILE_CHANGING_TOOLS",
    "FILE_TOOL_PREFIX",
    "MESSAGE_LIMIT",
    "MIN_SPLIT_LIMIT",
    "NOTICE_PREFIX",
    "READ_ONLY_TOOLS",
    "SESSION_ERROR_PREFIX",
    "TEXT_PREFIX",
    "TOOL_ERROR_PREFIX",
    "TOOL_PREFIX",
    "USER_PREFIX",
    "TurnFigures",
    "code_span",
    "escape_markdown",
    "is_grapheme_boundary",
    "render_assistant_text",
    "render_compaction",
    "render_footer",
    "render_message_error",
    "render_notice",
    "render_part",
    "render_retry",
    "render_session_error",
    "render_tool",
    "render_user_message",
    "render_user_prompt",
    "split_message",
    "tool_visible",
]
