"""JSON plumbing for the `/_twin/…` API: errors as JSON, wait filters, state objects as JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import TwinError
from ..guild_payloads import command_payload
from ..http_util import json_response
from ..payloads import channel_payload, user_payload
from ..state import Channel, Command, Interaction, Message, TypingEvent, User

if TYPE_CHECKING:
    from .twin import Twin

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


def guarded(
    handler: Callable[[web.Request], Any],
) -> Callable[[web.Request], Any]:
    """Answer TwinError/KeyError/ValueError as JSON errors instead of aiohttp's 500 page."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except TwinError as exc:
            return json_response(exc.body(), status=exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            return json_response({"message": f"bad request: {exc!r}", "code": 50035}, status=400)

    return wrapped


async def json_or_empty(request: web.Request) -> dict[str, Any]:
    if not await request.read():
        return {}
    body = await request.json()
    return body if isinstance(body, dict) else {}


def filter_from_query(query: Any) -> Callable[[Any], bool]:
    channel_id = query.get("channel_id")
    author_id = query.get("author_id")
    contains = query.get("contains")
    parent_id = query.get("parent_id")

    def match(subject: Any) -> bool:
        if channel_id and getattr(subject, "channel_id", None) != int(channel_id):
            return False
        if author_id and getattr(subject, "author_id", None) != int(author_id):
            return False
        if parent_id and getattr(subject, "parent_id", None) != int(parent_id):
            return False
        if contains:
            text = getattr(subject, "content", None) or getattr(subject, "name", "")
            if contains not in str(text):
                return False
        return True

    return match


def to_json(twin: Twin, obj: Any) -> Any:
    """Event subjects and state objects as JSON (messages and channels in Discord's shape)."""
    if isinstance(obj, Message):
        data = twin.ops.message_json(obj)
        data["deleted"] = obj.deleted
        data["ephemeral_for"] = str(obj.ephemeral_for) if obj.ephemeral_for else None
        return data
    if isinstance(obj, Channel):
        return dict(channel_payload(obj))
    if isinstance(obj, User):
        return dict(user_payload(obj))
    if isinstance(obj, Command):
        return dict(command_payload(obj))
    if isinstance(obj, Interaction):
        original = twin.store.messages.get(obj.original_message_id or 0)
        return {
            "id": str(obj.id),
            "type": obj.type,
            "user_id": str(obj.user_id),
            "channel_id": str(obj.channel_id),
            "data": obj.data,
            "response_type": obj.response_type,
            "response_data": obj.response_data,
            "original_message": to_json(twin, original) if original else None,
            "followups": [to_json(twin, twin.store.messages[m]) for m in obj.followup_ids],
        }
    if isinstance(obj, TypingEvent):
        return {"channel_id": str(obj.channel_id), "user_id": str(obj.user_id), "at": obj.at}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(twin, getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_json(twin, v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [to_json(twin, v) for v in obj]
    if isinstance(obj, bytes):
        return f"<{len(obj)} bytes>"
    if isinstance(obj, int) and obj > 2**53:
        return str(obj)
    return obj
