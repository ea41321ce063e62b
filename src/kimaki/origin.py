"""Who is driving a session: the `<discord-user … />` tag and the ownership rule.

Every prompt kimaki sends to OpenCode carries one tag in a synthetic text part. The tag is
how a session remembers, across restarts and without any table, that Discord asked for its
latest turn: when the newest user message carries it, Discord drives the session and sync
leaves it alone; when someone continues in the terminal, the newest user message has no tag
and sync mirrors the session again.

The tag is one line of XML-ish text. Values are escaped so that names with quotes, angle
brackets or newlines can neither break the tag nor smuggle a second one into it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kimaki.opencode.models import Message, TextPart
from kimaki.opencode.prompt import TextInput

TAG_NAME = "discord-user"

# The five XML entities, plus every character that could end the line or confuse a reader:
# C0/C1 controls (newlines, tabs, NUL…), NEL and the Unicode line/paragraph separators.
_NAMED_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_NAMED_UNESCAPES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_NEEDS_ESCAPE = re.compile(r"""[&<>"'\x00-\x1f\x7f-\x9f\u2028\u2029]""")

# Values never contain raw `<` or `>` (they are escaped), so the tag ends at the first `>`.
_TAG = re.compile(rf"<{TAG_NAME}(?=[\s/>])([^<>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")


@dataclass(frozen=True)
class DiscordOrigin:
    """The Discord message a prompt came from. Ids are Discord snowflakes as strings.

    A field is None when the tag lacks that attribute (a tag is still a tag: its presence
    alone is what the ownership rule reads).
    """

    name: str | None
    user_id: str | None
    message_id: str | None
    thread_id: str | None


def build_tag(name: str, user_id: str | int, message_id: str | int, thread_id: str | int) -> str:
    """The one-line tag for a prompt sent on behalf of a Discord user."""
    attributes = {
        "name": name,
        "user-id": str(user_id),
        "message-id": str(message_id),
        "thread-id": str(thread_id),
    }
    body = " ".join(f'{key}="{_escape(value)}"' for key, value in attributes.items())
    return f"<{TAG_NAME} {body} />"


def tag_part(
    name: str, user_id: str | int, message_id: str | int, thread_id: str | int
) -> TextInput:
    """The synthetic prompt part with the tag: the model reads it, the user's words stay clean."""
    return TextInput(build_tag(name, user_id, message_id, thread_id), synthetic=True)


def parse_tag(text: str) -> DiscordOrigin | None:
    """The first tag anywhere in `text`; attribute order and unknown attributes do not matter."""
    match = _TAG.search(text)
    if match is None:
        return None
    values: dict[str, str] = {}
    for attribute in _ATTRIBUTE.finditer(match.group(1)):
        raw = attribute.group(2) if attribute.group(2) is not None else attribute.group(3)
        values.setdefault(attribute.group(1).lower(), _unescape(raw))
    return DiscordOrigin(
        name=values.get("name"),
        user_id=values.get("user-id"),
        message_id=values.get("message-id"),
        thread_id=values.get("thread-id"),
    )


def message_origin(message: Message) -> DiscordOrigin | None:
    """The tag of a user message, wherever it sits among its text parts.

    Synthetic parts are searched first: that is where kimaki puts the tag, so a person who
    pastes a tag into their own words cannot outrank the real one. Whether the message has
    any visible text does not matter (a prompt may be an attachment alone).
    """
    if message.info.role != "user":
        return None
    for part in _text_parts_synthetic_first(message):
        origin = parse_tag(part.text)
        if origin is not None:
            return origin
    return None


def message_origins(message: Message) -> list[DiscordOrigin]:
    """Every tag of a user message, one per text part (a prompt that gathers several
    queued Discord messages carries one tag for each)."""
    if message.info.role != "user":
        return []
    found = (parse_tag(p.text) for p in _text_parts_synthetic_first(message))
    return [origin for origin in found if origin is not None]


def discord_drives(messages: Sequence[Message]) -> bool:
    """Whether Discord owns the session: its newest user message carries the tag.

    `messages` are oldest first, as OpenCode lists them, so "newest" is the last user message
    by position; timestamps are not compared because separate OpenCode processes write
    them with their own clocks. A session with no user message yet is mirrored (False).
    """
    for message in reversed(messages):
        if message.info.role == "user":
            return message_origin(message) is not None
    return False


def _text_parts_synthetic_first(message: Message) -> Iterator[TextPart]:
    texts = [p for p in message.parts if isinstance(p, TextPart)]
    yield from (p for p in texts if p.synthetic)
    yield from (p for p in texts if not p.synthetic)


def _escape(value: str) -> str:
    return _NEEDS_ESCAPE.sub(_escape_char, value)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _NAMED_ESCAPES.get(char) or f"&#x{ord(char):x};"


def _unescape(value: str) -> str:
    return _ENTITY.sub(_unescape_entity, value)


def _unescape_entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_UNESCAPES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code > 0x10FFFF:
        return match.group(0)
    return chr(code)
