"""What to post for a session, given its messages and what was already handled.

Pure planning, shared by Discord-originated sessions and background sync: read the
messages OpenCode has, skip every part already handled (posted, or hidden by the
verbosity in force when it finished), and turn the rest into units to post, in order.
Rules that keep a thread honest:

- Only finished parts are posted (text with `time.end`, tools `completed`/`error`).
- Order is kept: an unfinished part that will be shown blocks everything after it,
  so nothing is posted ahead of a part still streaming. A part that will stay
  hidden at this verbosity blocks nothing.
- A prompt typed outside Discord is posted as `» **user:** …`; a prompt that came
  from Discord (it carries the `<discord-user/>` tag) is not echoed back.
- Hidden parts are recorded as handled once finished, so raising verbosity later
  does not repost old history.
- A file the agent's answer carries (a `file` part: an image, a generated file) is
  posted as an attachment, at every verbosity; so is a file a tool returned with its
  result (an image `webfetch` fetched, an MCP tool's screenshot), right after the tool.
  Not `read`'s: those are files already on disk the agent looked at (often the very
  image the person sent); the agent posts one with `kimaki upload` when it means to.
- An unfinished assistant message is given up only when OpenCode says it ended (it
  carries an error, e.g. an abort) or when a *later assistant* message exists: OpenCode
  writes one step after the other, so a newer step means the run that owned the old
  one died (its process or server stopped) and a new run began. A user message
  written after it proves nothing — OpenCode answers follow-ups after the running
  step finishes — so the step keeps the thread waiting and is posted when it ends.
- A turn that ends gets one footer line (`kimaki.turn_figures`), keyed by its last message
  like a part, so it is posted once, in Discord and Sync threads alike. Only the footer
  notifies; a turn that ends with an error notifies with the error line instead, an
  aborted one with the line saying who aborted it.
- A context overflow shows as one line (the compaction request OpenCode stores);
  the summary OpenCode writes to continue from is not posted.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from kimaki.ids import Verbosity
from kimaki.opencode.models import (
    FilePart,
    Message,
    MessageInfo,
    ModelRef,
    Part,
    PartID,
    ReasoningPart,
    TextPart,
    ToolFile,
    ToolPart,
)
from kimaki.origin import message_origin
from kimaki.render import (
    render_compaction,
    render_footer,
    render_message_error,
    render_part,
    render_user_message,
    tool_visible,
)
from kimaki.turn_figures import closes_turn, figures, turn_start


@dataclass(frozen=True)
class FileRef:
    """A file an answer carries, as OpenCode gives it (a `data:` or `file://` URL)."""

    url: str
    mime: str
    filename: str


@dataclass(frozen=True)
class Unit:
    """One rendered thing to post. `parts` are marked handled when it is queued.

    A unit with `file` is posted as that file, in a message of its own (`text` is "").
    """

    key: PartID
    parts: tuple[PartID, ...]
    text: str
    notify: bool = False
    file: FileRef | None = None


@dataclass(frozen=True)
class Context:
    """What the plan needs besides the messages; the defaults know nothing."""

    context_limit: Callable[[ModelRef], int | None] = lambda _: None
    """The model's context window in tokens (`GET /config/providers`), for the footer."""
    aborted_by: Callable[[MessageInfo], str | None] = lambda _: None
    """Who aborted this message from Discord (None: it was not done from here)."""
    footers_from: int | None = None
    """Footers only for turns ending at or after this time (ms): a thread mirrored by a
    kimaki without footers does not get them for its old turns."""
    complete: bool = True
    """The messages begin at the session's start (no older page exists)."""


@dataclass
class Plan:
    units: list[Unit] = field(default_factory=list)
    skipped: list[PartID] = field(default_factory=list)
    blocked: bool = False
    """True when an unfinished visible part stopped the plan: look again later."""
    blocked_at: str | None = None
    """The id of the assistant message whose unfinished part blocked the plan."""
    turn_running: bool = False
    """The newest message is a prompt not yet answered or an assistant message not yet
    complete: someone is (or was, if its process died) working on a turn."""
    newest: str | None = None
    """The id of the newest message, to key notices about the turn it belongs to."""
    newest_created: int | None = None
    """When the newest message was created (ms), to tell old turns from new ones."""
    needs_history: bool = False
    """A footer waits for older messages (the turn's prompt is before the window)."""

    @property
    def empty(self) -> bool:
        return not self.units and not self.skipped


def turn_running(messages: Sequence[Message]) -> bool:
    if not messages:
        return False
    newest = messages[-1].info
    if newest.role == "user":
        return True
    return newest.role == "assistant" and newest.completed is None and newest.error is None


def error_key(message: Message) -> PartID:
    """The pseudo part id under which a message's error is recorded as handled."""
    return PartID(f"error:{message.info.id}")


def footer_key(message: Message) -> PartID:
    """The pseudo part id of the footer under the message that closed a turn."""
    return PartID(f"footer:{message.info.id}")


FOOTERS_FROM = PartID("footers-from")
"""A session's handled-part marker whose time is `Context.footers_from`."""


def plan(
    messages: Sequence[Message],
    handled: Collection[PartID],
    verbosity: Verbosity,
    *,
    echo_prompts: bool = True,
    context: Context = Context(),
) -> Plan:
    """Units to post for `messages` (oldest first), skipping `handled` parts."""
    result = Plan(
        turn_running=turn_running(messages),
        newest=messages[-1].info.id if messages else None,
        newest_created=messages[-1].info.created if messages else None,
    )
    last_step = max((i for i, m in enumerate(messages) if m.info.role == "assistant"), default=-1)
    for index, message in enumerate(messages):
        if message.info.role == "user":
            if index < len(messages) - 1:
                _plan_user(message, handled, result, echo=echo_prompts)
            # The newest message, a prompt, is left for later: OpenCode writes its parts one
            # by one (kimaki's tag last), so a read between two writes would echo a Discord
            # prompt as a terminal's. It is planned once its turn's answer follows it.
            continue
        if message.info.role != "assistant":
            continue
        ended = message.info.completed is not None or message.info.error is not None
        dead = not ended and index < last_step
        gone = message.info.error is not None or dead
        if not _plan_assistant(message, handled, verbosity, result, context, dead=gone):
            result.blocked = True
            result.blocked_at = message.info.id
            break
        if not _plan_footer(messages, index, handled, result, context):
            break
    return result


def _plan_user(message: Message, handled: Collection[PartID], result: Plan, *, echo: bool) -> None:
    ids = tuple(p.id for p in message.parts if p.id not in handled)
    if not ids:
        return
    compacting = next((p for p in message.parts if p.type == "compaction"), None)
    if compacting is not None:
        text: str | None = render_compaction(
            overflow=compacting.raw.get("overflow") is True, auto=compacting.raw.get("auto") is True
        )
    elif echo and message_origin(message) is None:
        text = render_user_message(message)
    else:
        text = None
    if text is None:
        result.skipped.extend(ids)
    else:
        result.units.append(Unit(ids[0], ids, text))


def _plan_assistant(
    message: Message,
    handled: Collection[PartID],
    verbosity: Verbosity,
    result: Plan,
    context: Context,
    *,
    dead: bool,
) -> bool:
    """Add the message's units; False if an unfinished visible part must be waited for."""
    for part in message.parts:
        if part.id in handled:
            continue
        if not part.is_finished:
            if dead:
                result.skipped.append(part.id)
            elif will_show(part, verbosity) and not message.info.summary:
                return False
            continue
        if isinstance(part, FilePart) and not message.info.summary:
            name = part.filename or "file"
            result.units.append(
                Unit(part.id, (part.id,), "", file=FileRef(part.url, part.mime, name))
            )
            continue
        # A compaction's summary is what OpenCode continues from, not an answer.
        text = None if message.info.summary else render_part(part, verbosity)
        if text is None:
            result.skipped.append(part.id)
        else:
            result.units.append(Unit(part.id, (part.id,), text))
        if isinstance(part, ToolPart):
            result.units += tool_files(part)
    _plan_error(message, handled, result, context)
    return True


LOOKED_AT = frozenset({"read"})
"""Tools whose returned files are files the agent looked at, not files it produced."""


def tool_files(part: ToolPart) -> list[Unit]:
    """A unit per file a completed tool returned, keyed `<part id>/file/<n>`."""
    if part.state.status != "completed" or part.tool in LOOKED_AT:
        return []
    units = []
    for n, found in enumerate(part.state.attachments):
        key = PartID(f"{part.id}/file/{n}")
        units.append(
            Unit(key, (key,), "", file=FileRef(found.url, found.mime, _name(part, n, found)))
        )
    return units


def _name(part: ToolPart, n: int, found: ToolFile) -> str:
    if found.filename:
        return found.filename
    suffix = mimetypes.guess_extension(found.mime.split(";")[0].strip()) or ""
    return f"{part.tool}-{n + 1}{suffix}"


def _plan_error(
    message: Message, handled: Collection[PartID], result: Plan, context: Context
) -> None:
    key = error_key(message)
    if key in handled or message.info.error is None:
        return
    text = render_message_error(message.info, aborted_by=context.aborted_by(message.info))
    if text is None:
        result.skipped.append(key)
    else:
        result.units.append(Unit(key, (key,), text, notify=True))


def _plan_footer(
    messages: Sequence[Message],
    end: int,
    handled: Collection[PartID],
    result: Plan,
    context: Context,
) -> bool:
    """The footer under a message that closed its turn; False if older messages are
    needed to compute it (nothing after it may be planned before it)."""
    message = messages[end]
    key = footer_key(message)
    info = message.info
    if key in handled or not closes_turn(info) or info.completed is None:
        return True
    if context.footers_from is not None and info.completed < context.footers_from:
        return True
    start = turn_start(messages, end)
    if start is None and not context.complete:
        result.needs_history = True
        return False
    text = render_footer(figures(messages, start, end, context.context_limit))
    result.units.append(Unit(key, (key,), text, notify=True))
    return True


def will_show(part: Part, verbosity: Verbosity) -> bool:
    """Whether this part, once finished, would be shown at `verbosity`."""
    if isinstance(part, ToolPart):
        return tool_visible(part.tool, verbosity)
    if isinstance(part, ReasoningPart):
        return verbosity is Verbosity.TOOLS_AND_TEXT
    if isinstance(part, TextPart):
        return not (part.synthetic or part.ignored)
    return False
