"""The exactly-once oracle every fault run ends with.

Two promises, checked from the outside (OpenCode's own record, the Discord twin's
transcript, kimaki's store for which thread belongs to which session):

1. **Each part OpenCode finished appears exactly once, in the right thread, in order.**
   Scripted turns put a marker (`fx-…`) into every text part and every shell command,
   so a finished part is recognised in Discord by its marker: it occurs exactly once in
   the bot's messages of the whole guild (read as they are after every edit: kimaki
   appends parts to its last message by editing it, so a part is an occurrence, not a
   message), in the session's thread, and the occurrences follow the parts' order
   (message by message, then place in the message). A part that will never finish (its
   turn was interrupted) is not expected.
2. **Each allowed Discord message got exactly one turn.** Every message a person wrote
   with a prompt marker (`fxq-…`) in a project channel or a live thread is found as the
   origin (`<discord-user message-id=…/>`) of exactly one OpenCode user message.
   A message written into a thread that was later deleted, or answered with a "seen
   late" note, is counted apart.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from discord_twin import Twin
from discord_twin.state import Channel, Message
from kimaki.opencode.models import Message as OpenCodeMessage
from kimaki.opencode.models import TextPart, ToolPart
from kimaki.opencode.rest import OpenCodeClient
from kimaki.origin import message_origin
from kimaki.store import Store, ThreadRecord

PART_MARKER = re.compile(r"\bfx-[a-z0-9]+(?:-[a-z0-9]+)*\b")
PROMPT_MARKER = re.compile(r"\bfxq-[a-z0-9]+(?:-[a-z0-9]+)*\b")
Place = tuple[int, int, int]
"""Where a marker occurs: channel id, message index in the channel, offset in the content."""


@dataclass
class OracleResult:
    parts_checked: int = 0
    messages_checked: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    turns_lost: list[str] = field(default_factory=list)
    turns_doubled: list[str] = field(default_factory=list)
    late_notes: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.misplaced
            or self.out_of_order
            or self.turns_lost
            or self.turns_doubled
        )

    def summary(self) -> str:
        return (
            f"{self.parts_checked} parts and {self.messages_checked} Discord messages checked; "
            f"lost {self.lost}, duplicated {self.duplicated}, misplaced {self.misplaced}, "
            f"out of order {self.out_of_order}, turns lost {self.turns_lost}, "
            f"turns doubled {self.turns_doubled}"
        )

    def merge(self, other: OracleResult) -> None:
        self.parts_checked += other.parts_checked
        self.messages_checked += other.messages_checked
        self.late_notes += other.late_notes
        for name in (
            "lost",
            "duplicated",
            "misplaced",
            "out_of_order",
            "turns_lost",
            "turns_doubled",
        ):
            getattr(self, name).extend(getattr(other, name))


def part_markers(message: OpenCodeMessage) -> list[str]:
    """The markers of the finished parts of an assistant message, in order."""
    found: list[str] = []
    if message.info.role != "assistant":
        return found
    for part in message.parts:
        if isinstance(part, TextPart) and part.is_finished and not part.synthetic:
            found += PART_MARKER.findall(part.text)[:1]
        elif isinstance(part, ToolPart) and part.state.status == "completed":
            command = part.state.input.get("command") if part.state.input else None
            if isinstance(command, str):
                found += PART_MARKER.findall(command)[:1]
    return found


async def check(
    twin: Twin,
    store: Store,
    opencode: OpenCodeClient,
    *,
    channels: Iterable[Channel],
    author_id: int,
) -> OracleResult:
    """Check every bound session of `store` against the twin's transcript of `channels`
    (project channels; their threads are found in the twin)."""
    assert twin.seed is not None
    bot_id = twin.seed.bot.id
    result = OracleResult()
    projects = list(channels)
    threads = [t for p in projects for t in twin.threads(p)]
    # Where each marker is, as the messages read after every edit: (channel id, message
    # index, offset in it) per occurrence. Parts share a message (appended by edits), so a
    # part is an occurrence, not a message: one appended twice is there twice.
    posted: dict[str, list[Place]] = defaultdict(list)
    for channel in [*projects, *threads]:
        for index, message in enumerate(twin.messages(channel)):
            if message.author_id != bot_id:
                continue
            for marker, place in marker_places(channel.id, index, message.content):
                posted[marker].append(place)
            if "seen late" in message.content:
                result.late_notes += 1

    # A thread started from a message has the message's id: so a deleted one is found too.
    started = {m.id for p in projects for m in twin.messages(p)}
    records = _bound_records(store, {t.id for t in threads} | started)
    origins: Counter[str] = Counter()
    for record in records:
        messages = await opencode.all_messages(record.session_id, str(record.directory))
        for message in messages:
            origin = message_origin(message)
            if origin is not None and origin.message_id:
                origins[origin.message_id] += 1
        if record.deleted:
            continue
        check_parts(record, messages, posted, result)

    live = {t.id for t in threads if not _deleted(store, t.id)}
    for channel in [*projects, *[t for t in threads if t.id in live]]:
        for message in twin.messages(channel):
            if message.author_id != author_id or not PROMPT_MARKER.search(message.content):
                continue
            result.messages_checked += 1
            count = origins.get(str(message.id), 0)
            if count == 0 and not _noted_late(twin, message, bot_id):
                result.turns_lost.append(_name(message))
            elif count > 1:
                result.turns_doubled.append(_name(message))
    return result


def marker_places(channel_id: int, index: int, content: str) -> Iterator[tuple[str, Place]]:
    """Each part marker in a message's content, with where it is."""
    for found in PART_MARKER.finditer(content):
        yield found.group(0), (channel_id, index, found.start())


def check_parts(
    record: ThreadRecord,
    messages: list[OpenCodeMessage],
    posted: dict[str, list[Place]],
    result: OracleResult,
) -> None:
    last = (-1, -1)
    for message in messages:
        for marker in part_markers(message):
            result.parts_checked += 1
            where = posted.get(marker, [])
            if not where:
                result.lost.append(marker)
                continue
            if len(where) > 1:
                result.duplicated.append(marker)
            channel_id, index, offset = where[0]
            if channel_id != record.thread_id:
                result.misplaced.append(marker)
                continue
            here = (index, offset)
            if here < last:
                result.out_of_order.append(marker)
            last = max(last, here)


def _bound_records(store: Store, thread_ids: set[int]) -> list[ThreadRecord]:
    records = []
    for thread_id in sorted(thread_ids):
        record = store.threads.get(thread_id)  # type: ignore[arg-type]
        if record is not None:
            records.append(record)
    return records


def _deleted(store: Store, thread_id: int) -> bool:
    record = store.threads.get(thread_id)  # type: ignore[arg-type]
    return record is None or record.deleted


def _noted_late(twin: Twin, message: Message, bot_id: int) -> bool:
    """Whether kimaki answered `message` with a "seen late" note (then no turn is right)."""
    channel = twin.channel(message.channel_id)
    for other in twin.messages(channel):
        if other.author_id == bot_id and "seen late" in other.content and other.id > message.id:
            return True
    return False


def _name(message: Message) -> str:
    marker = PROMPT_MARKER.search(message.content)
    return marker.group(0) if marker else str(message.id)


def open_store(data_dir: Path) -> Store:
    return Store.open(data_dir)
