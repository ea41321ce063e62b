"""The web client's API (`/_twin/web/…`): the guilds as their owner sees them, and the owner's
actions (post, upload, type, run commands, click, pick, submit modals).

Every action goes through the control API (`Twin.user(owner)`), so what the page does reaches
the bot exactly as a test's actions do. The page acts as a person with no password, so only
the machine itself may call it: peers must be on loopback, the Host header must name loopback
(no DNS rebinding), and writes must come from the page's own origin (no cross-site forms).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import TwinError
from .guild_payloads import command_payload
from .http_util import json_response, read_body, snowflake
from .payloads import channel_payload, role_payload, user_payload
from .state import Channel, Command, Message, User

if TYPE_CHECKING:
    from .control import InteractionHandle, Twin

PREFIX = "/_twin/web"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Application command option types the page converts from the text it sends.
SUB_COMMAND, SUB_COMMAND_GROUP, INTEGER, BOOLEAN, NUMBER = 1, 2, 4, 5, 10
MAX_OPEN_MODALS = 100


def is_loopback_host(host: str) -> bool:
    """`127.0.0.1:8765`, `localhost`, `[::1]:80` → True; anything else → False."""
    if host.startswith("["):
        name = host[1 : host.find("]")]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_local(request: web.Request, *, writes: bool) -> None:
    """Refuse anything but the page itself, opened on this machine."""
    if not is_loopback_host(request.remote or "") or not is_loopback_host(request.host):
        raise web.HTTPForbidden(text="the twin's web client answers loopback only")
    if writes and request.headers.get("Origin") != f"http://{request.host}":
        raise web.HTTPForbidden(text="only the twin's own page may act as the owner")


class WebApi:
    """Reads and actions for one twin; `frame()` turns log events into what the page shows."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        # Interactions the bot answered with a modal, kept until the modal is submitted.
        self._modal_sources: dict[int, InteractionHandle] = {}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/state", self.state),
            ("GET", "/channels/{channel_id}/messages", self.messages),
            ("POST", "/channels/{channel_id}/messages", self.post_message),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("POST", "/commands", self.run_command),
            ("POST", "/autocomplete", self.autocomplete),
            ("POST", "/components", self.use_component),
            ("POST", "/modals", self.submit_modal),
        ]
        for method, path, handler in routes:
            router.add_route(method, PREFIX + path, _guarded(handler, writes=method != "GET"))

    # ---- who the page is ------------------------------------------------------------------
    @property
    def me(self) -> User:
        """The guild owner: the seeded one, else the owner of the first guild."""
        store = self.twin.store
        if self.twin.seed is not None:
            return self.twin.seed.owner
        guild = next(iter(store.guilds.values()), None)
        if guild is None:
            raise TwinError(404, 10004, "the twin has no guild yet")
        return store.users[guild.owner_id]

    def visible(self, message: Message) -> bool:
        return message.ephemeral_for is None or message.ephemeral_for == self.me.id

    # ---- reading --------------------------------------------------------------------------
    async def state(self, request: web.Request) -> web.Response:
        store = self.twin.store
        me = self.me
        guilds = [g for g in store.guilds.values() if me.id in g.members]
        return json_response(
            {
                "me": user_payload(me),
                "cursor": self.twin.events.cursor(),
                "guilds": [
                    {"id": str(g.id), "name": g.name, "owner_id": str(g.owner_id)} for g in guilds
                ],
                "channels": [
                    channel_payload(c)
                    for c in store.channels.values()
                    if c.guild_id is not None and c.guild_id in {g.id for g in guilds}
                ],
                "users": [user_payload(u) for u in store.users.values()],
                "roles": [role_payload(r) for g in guilds for r in g.roles.values()],
                "commands": self.commands_json(),
            }
        )

    def commands_json(self) -> list[dict[str, Any]]:
        return [dict(command_payload(c)) for c in self.twin.store.commands.values()]

    async def messages(self, request: web.Request) -> web.Response:
        channel = self.twin.ops.channel(snowflake(request, "channel_id"))
        shown = [m for m in self.twin.store.live_messages(channel.id) if self.visible(m)]
        starter = self.twin.store.messages.get(channel.id) if channel.is_thread else None
        if starter is not None and not starter.deleted:
            shown.insert(0, starter)  # a thread made from a message opens with it, as on Discord
        return json_response([self.message_json(m) for m in shown])

    def message_json(self, message: Message) -> dict[str, Any]:
        """Discord's message payload plus what only the owner's client knows."""
        payload = self.twin.ops.message_json(message)
        for attachment in payload["attachments"]:
            # Same-origin paths: the page may be opened as localhost or 127.0.0.1.
            attachment["url"] = attachment["proxy_url"] = attachment["url"][len(self.twin.url) :]
        payload["ephemeral"] = message.ephemeral_for is not None
        if message.thread_id is not None and message.thread_id in self.twin.store.channels:
            payload["thread"] = channel_payload(self.twin.store.channels[message.thread_id])
        if message.interaction_id is not None:
            interaction = self.twin.store.interactions.get(message.interaction_id)
            if interaction is not None and interaction.type == 2:
                payload["command_name"] = _command_path(interaction.data)
        return payload

    # ---- acting as the owner --------------------------------------------------------------
    async def post_message(self, request: web.Request) -> web.Response:
        """Discord's own upload format: `payload_json` plus `files[n]` parts, or plain JSON."""
        channel = self.twin.ops.channel(snowflake(request, "channel_id"))
        body, files = await read_body(request)
        message, _ = self.twin.ops.post_message(
            channel, self.me.id, content=str(body.get("content") or ""), files=files
        )
        return json_response(self.message_json(message))

    async def typing(self, request: web.Request) -> web.Response:
        channel = self.twin.ops.channel(snowflake(request, "channel_id"))
        self.twin.user(self.me).typing(channel)
        return web.Response(status=204)

    async def run_command(self, request: web.Request) -> web.Response:
        """`{channel_id, command_id, path: [sub…], options: {name: text}}` → the outcome."""
        body = await _json(request)
        channel, command, name, specs = self._command(body)
        values = _convert_all(specs, body.get("options") or {}, required=True)
        app = self.twin.store.applications[command.application_id]
        handle = self.twin.user(self.me).slash(name, values, channel=channel, app=app)
        return json_response(await self._outcome(handle))

    async def autocomplete(self, request: web.Request) -> web.Response:
        """`{…, focused}` → `{choices}`: what the bot suggests for the option being typed."""
        body = await _json(request)
        channel, command, name, specs = self._command(body)
        focused = str(body.get("focused") or "")
        raw = dict(body.get("options") or {})
        typed = str(raw.pop(focused, ""))
        values = _convert_all(specs, raw, required=False)
        values[focused] = typed  # Discord sends the focused option as typed, unconverted
        app = self.twin.store.applications[command.application_id]
        handle = self.twin.user(self.me).autocomplete(
            name, values, focused, channel=channel, app=app
        )
        outcome = await self._outcome(handle)
        outcome["choices"] = handle.choices or []
        return json_response(outcome)

    async def use_component(self, request: web.Request) -> web.Response:
        """`{message_id, custom_id, values?}`: a click, or a pick when `values` is given."""
        body = await _json(request)
        message = self.twin.store.messages.get(int(body.get("message_id") or 0))
        if message is None or message.deleted or not self.visible(message):
            raise TwinError(404, 10008, "Unknown Message")
        actor = self.twin.user(self.me)
        custom_id = str(body.get("custom_id") or "")
        if body.get("values") is None:
            handle = actor.click(message, custom_id)
        else:
            handle = actor.select(message, custom_id, [str(v) for v in body["values"]])
        return json_response(await self._outcome(handle))

    async def submit_modal(self, request: web.Request) -> web.Response:
        """`{interaction_id, values: {custom_id: text | [values]}}` for a modal the page shows."""
        body = await _json(request)
        source = self._modal_sources.pop(int(body.get("interaction_id") or 0), None)
        if source is None:
            raise TwinError(404, 10062, "Unknown interaction (that modal was already submitted)")
        values = {str(k): v for k, v in (body.get("values") or {}).items()}
        handle = self.twin.user(self.me).submit_modal(source, values)
        return json_response(await self._outcome(handle))

    async def _outcome(self, handle: InteractionHandle) -> dict[str, Any]:
        """Wait, as Discord's client does, for the bot to acknowledge within the deadline."""
        interaction = handle.interaction
        result: dict[str, Any] = {"interaction_id": str(interaction.id)}
        try:
            await handle.wait_response(timeout=self.twin.ops.interaction_deadline + 0.5)
        except TimeoutError:
            result["failed"] = "The application did not respond"
            return result
        result["response_type"] = handle.response_type
        if handle.modal is not None:
            self._modal_sources[interaction.id] = handle
            while len(self._modal_sources) > MAX_OPEN_MODALS:  # modals closed unsubmitted
                del self._modal_sources[next(iter(self._modal_sources))]
            result["modal"] = handle.modal
        return result

    def _command(self, body: dict[str, Any]) -> tuple[Channel, Command, str, list[dict[str, Any]]]:
        """The channel, the command, its `"name sub"` path and the leaf's option specs."""
        channel = self.twin.ops.channel(int(body.get("channel_id") or 0))
        command = self.twin.store.commands.get(int(body.get("command_id") or 0))
        if command is None or command.guild_id not in (None, channel.guild_id):
            raise TwinError(404, 10063, "Unknown application command")
        path = [str(p) for p in body.get("path") or []]
        specs = command.options
        for part in path:
            spec = next(
                (o for o in specs if o.get("name") == part and o.get("type") in (1, 2)), None
            )
            if spec is None:
                raise TwinError(400, 50035, f"/{command.name} has no subcommand {part!r}")
            specs = spec.get("options") or []
        return channel, command, " ".join([command.name, *path]), specs


def _command_path(data: dict[str, Any]) -> str:
    """`/project add` from an application command interaction's data."""
    parts = [str(data.get("name", ""))]
    options = data.get("options") or []
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        parts.append(str(options[0].get("name", "")))
        options = options[0].get("options") or []
    return "/" + " ".join(parts)


def _convert_all(
    specs: list[dict[str, Any]], raw: dict[str, Any], *, required: bool
) -> dict[str, Any]:
    """Typed option values from the page's text, checked like Discord's client checks them."""
    values: dict[str, Any] = {}
    for spec in specs:
        name = str(spec.get("name"))
        text = raw.get(name)
        if text is None or text == "":
            if required and spec.get("required"):
                raise TwinError(400, 50035, f"option {name!r} is required")
            continue
        value = _convert(spec, text)
        choices = spec.get("choices")
        if choices and value not in [c.get("value") for c in choices]:
            raise TwinError(400, 50035, f"{text!r} is not one of the choices for {name!r}")
        values[name] = value
    unknown = set(raw) - {str(s.get("name")) for s in specs}
    if unknown:
        raise TwinError(400, 50035, f"unknown options: {', '.join(sorted(unknown))}")
    return values


def _convert(spec: dict[str, Any], text: Any) -> Any:
    kind = int(spec.get("type") or 3)
    try:
        if kind == INTEGER:
            return int(text)
        if kind == NUMBER:
            return float(text)
    except (TypeError, ValueError) as exc:
        raise TwinError(400, 50035, f"{spec.get('name')!r} must be a number") from exc
    if kind == BOOLEAN:
        return text is True or str(text).lower() in ("true", "1", "yes")
    return str(text)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise TwinError(400, 50109, "The request body contains invalid JSON.") from exc
    if not isinstance(body, dict):
        raise TwinError(400, 50109, "Expected a JSON object")
    return body


def _guarded(handler: Handler, *, writes: bool) -> Handler:
    """Loopback check first; Discord-style JSON errors for what the page did wrong."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        check_local(request, writes=writes)
        try:
            return await handler(request)
        except TwinError as exc:
            return json_response(exc.body(), status=exc.status)
        except (ValueError, KeyError) as exc:
            return json_response({"message": str(exc), "code": 50035}, status=400)

    return guarded
