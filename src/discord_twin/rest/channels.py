"""REST: a channel or thread itself, creating threads, thread lists and thread members."""

from __future__ import annotations

from aiohttp import web

from ..http_util import BODY_KEY, json_response, no_content, read_body
from ..payloads import channel_payload
from ..state import Channel
from .base import RestBase, Route, current_app, thread_member_json


class ChannelRoutes(RestBase):
    def routes(self) -> list[Route]:
        return [
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("PATCH", "/channels/{channel_id}", self.edit_channel),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("POST", "/channels/{channel_id}/threads", self.create_thread),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                self.create_thread_from_message,
            ),
            ("GET", "/channels/{channel_id}/threads/archived/public", self.get_archived_threads),
            ("GET", "/channels/{channel_id}/thread-members", self.get_thread_members),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self.join_thread),
            ("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self.leave_thread),
        ]

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(channel_payload(self._channel(request)))

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        return json_response(channel_payload(self.ops.update_channel(channel, body)))

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return json_response(channel_payload(self.ops.delete_channel(channel)))

    async def create_thread(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        thread = self.ops.create_thread(
            parent,
            str(body.get("name", "")),
            current_app(request).bot_user_id,
            type=int(body.get("type") or 12),
            auto_archive_duration=body.get("auto_archive_duration"),
            invitable=bool(body.get("invitable", True)),
        )
        return json_response(channel_payload(thread), status=201)

    async def create_thread_from_message(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        message = self._message(request)
        body, _ = await read_body(request)
        request[BODY_KEY] = body
        thread = self.ops.create_thread(
            parent,
            str(body.get("name", "")),
            current_app(request).bot_user_id,
            auto_archive_duration=body.get("auto_archive_duration"),
            from_message=message,
        )
        return json_response(channel_payload(thread), status=201)

    async def get_archived_threads(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        threads = [t for t in self.store.threads(parent_id=parent.id) if t.archived]
        threads.sort(key=lambda t: t.archive_timestamp, reverse=True)
        return json_response(
            {"threads": [channel_payload(t) for t in threads], "members": [], "has_more": False}
        )

    async def get_thread_members(self, request: web.Request) -> web.Response:
        thread = self._channel(request)
        return json_response([thread_member_json(thread, u) for u in sorted(thread.thread_members)])

    def _thread_user(self, request: web.Request) -> tuple[Channel, int]:
        thread = self._channel(request)
        raw = request.match_info["user_id"]
        user_id = current_app(request).bot_user_id if raw == "@me" else int(raw)
        return thread, user_id

    async def join_thread(self, request: web.Request) -> web.Response:
        thread, user_id = self._thread_user(request)
        thread.thread_members.add(user_id)
        return no_content()

    async def leave_thread(self, request: web.Request) -> web.Response:
        thread, user_id = self._thread_user(request)
        thread.thread_members.discard(user_id)
        return no_content()
