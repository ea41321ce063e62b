"""REST: messages (history, create, edit, delete), reactions, pins and typing."""

from __future__ import annotations

from aiohttp import web

from .. import errors as E
from ..errors import TwinError
from ..http_util import BODY_KEY, json_response, no_content, read_body, snowflake
from ..payloads import user_payload
from .base import RestBase, Route, current_app


class MessageRoutes(RestBase):
    def routes(self) -> list[Route]:
        return [
            ("GET", "/channels/{channel_id}/messages", self.get_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.add_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.remove_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
                self.remove_user_reaction,
            ),
            (
                "GET",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
                self.get_reaction_users,
            ),
            ("PUT", "/channels/{channel_id}/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/pins/{message_id}", self.unpin),
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self.unpin),
            ("POST", "/channels/{channel_id}/typing", self.typing),
        ]

    async def get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        query = request.query
        limit = max(1, min(100, int(query.get("limit", "50"))))
        visible = [m for m in self.store.live_messages(channel.id) if m.ephemeral_for is None]
        if "before" in query:
            before = int(query["before"])
            picked = [m for m in visible if m.id < before][-limit:]
        elif "after" in query:
            after = int(query["after"])
            picked = [m for m in visible if m.id > after][:limit]
        elif "around" in query:
            around = int(query["around"])
            older = [m for m in visible if m.id < around][-(limit // 2) :] if limit > 1 else []
            newer = [m for m in visible if m.id >= around][: limit - len(older)]
            picked = older + newer
        else:
            picked = visible[-limit:]
        return json_response([self._message_json(request, m) for m in reversed(picked)])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, files = await read_body(request)
        request[BODY_KEY] = body
        message, _ = self.ops.post_message(
            channel,
            current_app(request).bot_user_id,
            content=body.get("content"),
            embeds=body.get("embeds"),
            components=body.get("components"),
            files=files,
            flags=int(body.get("flags") or 0),
            nonce=body.get("nonce"),
            enforce_nonce=bool(body.get("enforce_nonce", False)),
            message_reference=body.get("message_reference"),
            allowed_mentions=body.get("allowed_mentions"),
            tts=bool(body.get("tts", False)),
        )
        return json_response(self._message_json(request, message))

    async def get_message(self, request: web.Request) -> web.Response:
        return json_response(self._message_json(request, self._message(request)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        body, files = await read_body(request)
        request[BODY_KEY] = body
        if message.author_id != current_app(request).bot_user_id:
            raise TwinError(
                403, E.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
            )
        edited = self.ops.edit_message(message, body, files)
        return json_response(self._message_json(request, edited))

    async def delete_message(self, request: web.Request) -> web.Response:
        self.ops.delete_message(self._message(request))
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        emoji = request.match_info["emoji"]
        self.ops.react(self._message(request), emoji, current_app(request).bot_user_id)
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        emoji = request.match_info["emoji"]
        self.ops.react(self._message(request), emoji, current_app(request).bot_user_id, add=False)
        return no_content()

    async def remove_user_reaction(self, request: web.Request) -> web.Response:
        """Removing someone else's reaction (needs Manage Messages on Discord)."""
        user_id = snowflake(request, "user_id")
        self.ops.react(self._message(request), request.match_info["emoji"], user_id, add=False)
        return no_content()

    async def get_reaction_users(self, request: web.Request) -> web.Response:
        message = self._message(request)
        after = int(request.query.get("after", "0"))
        limit = max(1, min(100, int(request.query.get("limit", "25"))))
        ids = sorted(
            u for u in message.reactions.get(request.match_info["emoji"], set()) if u > after
        )
        users = [user_payload(self.store.users[u]) for u in ids[:limit]]
        return json_response(users)

    async def pin(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.pinned = True
        return no_content()

    async def unpin(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.pinned = False
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self.ops.typing(self._channel(request), current_app(request).bot_user_id)
        return no_content()
