"""The control API over HTTP under `/_twin/…`, for a bot (or a script) in another process.

Same operations as `Twin`, with ids instead of objects. Waits take simple filters instead of
predicates: `GET /_twin/wait?kind=message&channel_id=…&contains=…&since=…&timeout=…`.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import TwinError
from ..guild_payloads import command_payload
from ..http_util import json_response
from ..payloads import channel_payload, member_payload, role_payload, user_payload
from ..state import Application, Channel, Message, User
from .http_faults import FaultHttp
from .http_json import Route, filter_from_query, guarded, to_json

if TYPE_CHECKING:
    from .twin import Twin

PREFIX = "/_twin"
_WAIT_KINDS = {
    "message": ("message_create",),
    "message_or_edit": ("message_create", "message_update"),
    "thread": ("thread_create",),
    "typing": ("typing",),
    "interaction_response": ("interaction_response",),
    "edit": ("message_update",),
    "thread_delete": ("thread_delete",),
    "channel_delete": ("channel_delete",),
    "request_held": ("request_held",),
}


class ControlHttp:
    def __init__(self, twin: Twin) -> None:
        self.twin = twin

    def add_routes(self, router: web.UrlDispatcher) -> None:
        routes: list[Route] = [
            ("GET", "/state", self.state),
            ("POST", "/users", self.create_user),
            ("POST", "/bots", self.create_bot),
            ("POST", "/guilds", self.create_guild),
            ("POST", "/guilds/{guild_id}/roles", self.create_role),
            ("POST", "/guilds/{guild_id}/members", self.add_member),
            ("POST", "/guilds/{guild_id}/channels", self.create_channel),
            ("PATCH", "/applications/{app_id}", self.update_application),
            ("POST", "/applications/{app_id}/reset_token", self.reset_token),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}", self.remove_member),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("POST", "/act/{user_id}/messages", self.act_send),
            ("POST", "/act/{user_id}/typing", self.act_typing),
            ("POST", "/act/{user_id}/reactions", self.act_react),
            ("POST", "/act/{user_id}/threads", self.act_thread),
            ("POST", "/act/{user_id}/slash", self.act_slash),
            ("POST", "/act/{user_id}/autocomplete", self.act_autocomplete),
            ("POST", "/act/{user_id}/click", self.act_click),
            ("POST", "/act/{user_id}/select", self.act_select),
            ("POST", "/act/{user_id}/modal", self.act_modal),
            ("GET", "/interactions/{interaction_id}", self.get_interaction),
            ("GET", "/channels/{channel_id}/messages", self.get_messages),
            ("GET", "/channels/{channel_id}/threads", self.get_threads),
            ("GET", "/channels/{channel_id}/render", self.render),
            ("GET", "/typing", self.get_typing),
            ("GET", "/commands", self.get_commands),
            ("GET", "/requests", self.get_requests),
            ("GET", "/events", self.get_events),
            ("GET", "/wait", self.wait),
        ]
        routes += FaultHttp(self.twin).routes()
        for method, path, handler in routes:
            router.add_route(method, PREFIX + path, guarded(handler))

    # ---- helpers --------------------------------------------------------------------------
    def _user(self, value: Any) -> User:
        user = self.twin.store.users.get(int(value))
        if user is None:
            raise TwinError(404, 10013, "Unknown User")
        return user

    def _message(self, value: Any) -> Message:
        message = self.twin.store.messages.get(int(value))
        if message is None:
            raise TwinError(404, 10008, "Unknown Message")
        return message

    def _actor_channel(self, body: dict[str, Any]) -> Channel | None:
        return self.twin.channel(int(body["channel_id"])) if body.get("channel_id") else None

    def _actor_app(self, body: dict[str, Any]) -> Application | None:
        """`application_id` picks whose command a user runs when several bots share a name."""
        if not body.get("application_id"):
            return None
        app = self.twin.store.applications.get(int(body["application_id"]))
        if app is None:
            raise TwinError(404, 10002, "Unknown Application")
        return app

    def js(self, obj: Any) -> Any:
        return to_json(self.twin, obj)

    # ---- seeding --------------------------------------------------------------------------
    async def state(self, request: web.Request) -> web.Response:
        store = self.twin.store
        guilds = [
            {
                "id": str(g.id),
                "name": g.name,
                "owner_id": str(g.owner_id),
                "roles": [role_payload(r) for r in g.roles.values()],
                "members": [member_payload(store, m) for m in g.members.values()],
                "channels": [channel_payload(c) for c in self.twin.channels(g)],
                "threads": [channel_payload(t) for t in store.threads(guild_id=g.id)],
            }
            for g in store.guilds.values()
        ]
        apps = [_app_json(a) for a in store.applications.values()]
        users = [user_payload(u) for u in store.users.values()]
        return json_response({"guilds": guilds, "applications": apps, "users": users})

    async def create_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = self.twin.create_user(str(body["username"]), global_name=body.get("global_name"))
        return json_response(user_payload(user))

    async def create_bot(self, request: web.Request) -> web.Response:
        body = await request.json()
        app = self.twin.create_bot(str(body["username"]), owner=self._user(body["owner_id"]))
        return json_response(
            {"application_id": str(app.id), "bot_user_id": str(app.bot_user_id), "token": app.token}
        )

    async def create_guild(self, request: web.Request) -> web.Response:
        body = await request.json()
        guild = self.twin.create_guild(str(body["name"]), owner=self._user(body["owner_id"]))
        return json_response({"id": str(guild.id), "name": guild.name})

    async def create_role(self, request: web.Request) -> web.Response:
        guild = self.twin.ops.guild(int(request.match_info["guild_id"]))
        body = await request.json()
        role = self.twin.create_role(
            guild, str(body["name"]), permissions=int(body.get("permissions", 0))
        )
        return json_response(role_payload(role))

    async def add_member(self, request: web.Request) -> web.Response:
        guild = self.twin.ops.guild(int(request.match_info["guild_id"]))
        body = await request.json()
        roles = [guild.roles[int(r)] for r in body.get("role_ids") or []]
        member = self.twin.add_member(guild, self._user(body["user_id"]), roles=roles)
        return json_response(member_payload(self.twin.store, member))

    async def create_channel(self, request: web.Request) -> web.Response:
        guild = self.twin.ops.guild(int(request.match_info["guild_id"]))
        body = await request.json()
        parent = self.twin.channel(int(body["parent_id"])) if body.get("parent_id") else None
        channel = self.twin.create_channel(
            guild,
            str(body["name"]),
            type=int(body.get("type", 0)),
            parent=parent,
            topic=body.get("topic"),
        )
        return json_response(channel_payload(channel))

    # ---- portal and admin -----------------------------------------------------------------
    def _app(self, request: web.Request) -> Application:
        app = self.twin.store.applications.get(int(request.match_info["app_id"]))
        if app is None:
            raise TwinError(404, 10002, "Unknown Application")
        return app

    async def update_application(self, request: web.Request) -> web.Response:
        body = await request.json()
        team = body.get("team_member_ids")
        app = self.twin.update_application(
            self._app(request),
            message_content=body.get("message_content"),
            guild_members=body.get("guild_members"),
            presences=body.get("presences"),
            bot_public=body.get("bot_public"),
            team_member_ids=[int(u) for u in team] if team is not None else None,
        )
        return json_response(_app_json(app))

    async def reset_token(self, request: web.Request) -> web.Response:
        return json_response({"token": self.twin.reset_token(self._app(request))})

    async def remove_member(self, request: web.Request) -> web.Response:
        guild = self.twin.ops.guild(int(request.match_info["guild_id"]))
        self.twin.remove_member(guild, self._user(request.match_info["user_id"]))
        return json_response({"removed": True})

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel = self.twin.channel(int(request.match_info["channel_id"]))
        return json_response(channel_payload(self.twin.delete_channel(channel)))

    # ---- acting as a user -----------------------------------------------------------------
    async def act_send(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        message = actor.send(
            self.twin.channel(int(body["channel_id"])),
            str(body.get("content", "")),
            reply_to=self._message(body["reply_to"]) if body.get("reply_to") else None,
            mentions=[self._user(u) for u in body.get("mention_ids") or []],
            nonce=body.get("nonce"),
            files={
                name: base64.b64decode(data) for name, data in (body.get("files") or {}).items()
            },
        )
        return json_response(self.js(message))

    async def act_react(self, request: web.Request) -> web.Response:
        """`{message_id, emoji, remove: false}`: a user adds (or removes) a reaction."""
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        message = self._message(body["message_id"])
        if body.get("remove"):
            actor.unreact(message, str(body["emoji"]))
        else:
            actor.react(message, str(body["emoji"]))
        return json_response(self.js(message))

    async def act_typing(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        return json_response(self.js(actor.typing(self.twin.channel(int(body["channel_id"])))))

    async def act_thread(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        starter = self._message(body["message_id"]) if body.get("message_id") else None
        thread = actor.create_thread(
            self.twin.channel(int(body["channel_id"])), str(body["name"]), from_message=starter
        )
        return json_response(channel_payload(thread))

    async def act_slash(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        handle = actor.slash(
            str(body["name"]),
            body.get("options") or {},
            channel=self._actor_channel(body),
            app=self._actor_app(body),
        )
        return json_response(self.js(handle.interaction))

    async def act_autocomplete(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        handle = actor.autocomplete(
            str(body["name"]),
            body.get("options") or {},
            str(body["focused"]),
            channel=self._actor_channel(body),
            app=self._actor_app(body),
        )
        return json_response(self.js(handle.interaction))

    async def act_click(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        handle = actor.click(self._message(body["message_id"]), str(body["custom_id"]))
        return json_response(self.js(handle.interaction))

    async def act_select(self, request: web.Request) -> web.Response:
        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        handle = actor.select(
            self._message(body["message_id"]), str(body["custom_id"]), list(body["values"])
        )
        return json_response(self.js(handle.interaction))

    async def act_modal(self, request: web.Request) -> web.Response:
        from .handles import InteractionHandle

        actor = self.twin.user(self._user(request.match_info["user_id"]))
        body = await request.json()
        source = self.twin.store.interactions.get(int(body["interaction_id"]))
        if source is None:
            raise TwinError(404, 10062, "Unknown interaction")
        handle = actor.submit_modal(InteractionHandle(self.twin, source), dict(body["values"]))
        return json_response(self.js(handle.interaction))

    # ---- reading --------------------------------------------------------------------------
    async def get_interaction(self, request: web.Request) -> web.Response:
        interaction = self.twin.store.interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None:
            raise TwinError(404, 10062, "Unknown interaction")
        return json_response(self.js(interaction))

    async def get_messages(self, request: web.Request) -> web.Response:
        channel = self.twin.channel(int(request.match_info["channel_id"]))
        return json_response([self.js(m) for m in self.twin.messages(channel)])

    async def get_threads(self, request: web.Request) -> web.Response:
        channel = self.twin.channel(int(request.match_info["channel_id"]))
        return json_response([channel_payload(t) for t in self.twin.threads(channel)])

    async def render(self, request: web.Request) -> web.Response:
        channel = self.twin.channel(int(request.match_info["channel_id"]))
        return web.Response(text=self.twin.render(channel), content_type="text/plain")

    async def get_typing(self, request: web.Request) -> web.Response:
        channel_id = request.query.get("channel_id")
        channel = self.twin.channel(int(channel_id)) if channel_id else None
        return json_response([self.js(t) for t in self.twin.typing_events(channel)])

    async def get_commands(self, request: web.Request) -> web.Response:
        guild_id = request.query.get("guild_id")
        guild = self.twin.ops.guild(int(guild_id)) if guild_id else None
        return json_response([command_payload(c) for c in self.twin.commands(guild)])

    async def get_requests(self, request: web.Request) -> web.Response:
        records = self.twin.requests
        if request.query.get("unknown") in ("1", "true"):
            records = self.twin.unknown_requests()
        return json_response([self.js(r) for r in records])

    async def get_events(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        kinds = request.query.get("kinds")
        events = self.twin.events.since(since, kinds.split(",") if kinds else None)
        return json_response(
            {
                "cursor": self.twin.cursor(),
                "events": [
                    {
                        "index": e.index,
                        "kind": e.kind,
                        "at": e.at,
                        "monotonic": e.monotonic,
                        "data": self.js(e.subject),
                        "snapshot": self.js(e.data),
                    }
                    for e in events
                ],
            }
        )

    async def wait(self, request: web.Request) -> web.Response:
        """Long-poll for the first matching event; 408 with what was seen on timeout."""
        query = request.query
        kind = query.get("kind", "message")
        if kind not in _WAIT_KINDS:
            raise TwinError(400, 50035, f"kind must be one of {sorted(_WAIT_KINDS)}")
        try:
            event = await self.twin.wait_for_event(
                _WAIT_KINDS[kind],
                filter_from_query(query),
                since=int(query.get("since", "0")),
                timeout=float(query.get("timeout", "5")),
            )
        except TimeoutError as exc:
            return json_response({"message": str(exc), "code": 0}, status=408)
        return json_response({"index": event.index, "data": self.js(event.subject)})


def _app_json(app: Application) -> dict[str, Any]:
    return {
        "id": str(app.id),
        "bot_user_id": str(app.bot_user_id),
        "token": app.token,
        "message_content": app.message_content,
        "guild_members": app.guild_members,
        "presences": app.presences,
        "bot_public": app.bot_public,
        "team_member_ids": [str(u) for u in app.team_member_ids],
    }
