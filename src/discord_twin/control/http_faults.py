"""`/_twin/…` routes for trouble: rate-limit profiles, HTTP faults, holds, revoked channel
access and gateway faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import MISSING_ACCESS, TwinError
from ..faults import RequestHold
from ..http_util import json_response
from .http_json import Route, json_or_empty

if TYPE_CHECKING:
    from .twin import Twin


class FaultHttp:
    def __init__(self, twin: Twin) -> None:
        self.twin = twin

    def routes(self) -> list[Route]:
        return [
            ("POST", "/ratelimits", self.set_ratelimits),
            ("POST", "/faults/http", self.add_fault),
            ("DELETE", "/faults/http", self.clear_faults),
            ("POST", "/holds", self.add_hold),
            ("GET", "/holds/{hold_id}", self.wait_hold),
            ("POST", "/holds/{hold_id}/release", self.release_hold),
            ("POST", "/channels/{channel_id}/access", self.set_access),
            ("POST", "/gateway/close", self.gateway_close),
            ("POST", "/gateway/release", self.gateway_release),
            ("POST", "/gateway/reconnect", self.gateway_reconnect),
            ("POST", "/gateway/invalidate", self.gateway_invalidate),
            ("POST", "/gateway/mute_acks", self.gateway_mute),
        ]

    async def set_ratelimits(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.twin.set_rate_limits(str(body["profile"]))
        except ValueError as exc:
            raise TwinError(400, 50035, str(exc)) from exc
        return json_response({"profile": self.twin.ratelimits.profile})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        fault = self.twin.add_http_fault(
            str(body.get("method", "*")),
            str(body["path"]),
            body.get("status", 500),
            count=body.get("count", 1),
            probability=float(body.get("probability", 1.0)),
            retry_after=float(body.get("retry_after", 0.0)),
            delay=float(body.get("delay", 0.0)),
            is_global=bool(body.get("global", False)),
        )
        return json_response({"method": fault.method, "path": fault.path, "status": fault.status})

    async def clear_faults(self, request: web.Request) -> web.Response:
        """Drops rules, releases holds and restores revoked access."""
        self.twin.faults.clear()
        return json_response({"rules": 0})

    def _hold(self, request: web.Request) -> RequestHold:
        wanted = int(request.match_info["hold_id"])
        hold = next((h for h in self.twin.faults.holds if h.id == wanted), None)
        if hold is None:
            raise TwinError(404, 0, "Unknown hold")
        return hold

    async def add_hold(self, request: web.Request) -> web.Response:
        body = await request.json()
        hold = self.twin.hold_requests(
            str(body.get("method", "*")),
            str(body["path"]),
            count=body.get("count", 1),
            after_processing=bool(body.get("after_processing", False)),
        )
        return json_response(_hold_json(hold))

    async def wait_hold(self, request: web.Request) -> web.Response:
        """Long-poll until `count` requests are held; 408 on timeout."""
        hold = self._hold(request)
        try:
            await hold.wait_held(
                int(request.query.get("count", "1")), float(request.query.get("timeout", "5"))
            )
        except TimeoutError as exc:
            return json_response({"message": str(exc), "code": 0}, status=408)
        return json_response(_hold_json(hold))

    async def release_hold(self, request: web.Request) -> web.Response:
        hold = self._hold(request)
        hold.release()
        return json_response(_hold_json(hold))

    async def set_access(self, request: web.Request) -> web.Response:
        """`{allowed: false, code: 50001}` revokes a channel's access; `{allowed: true}` ends it."""
        channel = self.twin.channel(int(request.match_info["channel_id"]))
        body = await request.json()
        if body.get("allowed", False):
            self.twin.restore_access(channel)
        else:
            self.twin.revoke_access(channel, code=int(body.get("code", MISSING_ACCESS)))
        return json_response({"channel_id": str(channel.id), "allowed": bool(body.get("allowed"))})

    async def gateway_close(self, request: web.Request) -> web.Response:
        body = await json_or_empty(request)
        closed = self.twin.gateway.close_connections(
            int(body.get("code", 4000)), hold=bool(body.get("hold", False))
        )
        return json_response({"closed": closed, "held": self.twin.gateway.held})

    async def gateway_release(self, request: web.Request) -> web.Response:
        self.twin.gateway.release()
        return json_response({"held": False})

    async def gateway_reconnect(self, request: web.Request) -> web.Response:
        self.twin.gateway.send_reconnect()
        return json_response({"sent": "op 7"})

    async def gateway_invalidate(self, request: web.Request) -> web.Response:
        body = await json_or_empty(request)
        self.twin.gateway.invalidate_sessions(resumable=bool(body.get("resumable", False)))
        return json_response({"sent": "op 9"})

    async def gateway_mute(self, request: web.Request) -> web.Response:
        body = await json_or_empty(request)
        self.twin.gateway.mute_heartbeat_acks = bool(body.get("muted", True))
        return json_response({"muted": self.twin.gateway.mute_heartbeat_acks})


def _hold_json(hold: RequestHold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "method": hold.method,
        "path": hold.path,
        "held": len(hold.caught),
        "paths": hold.caught,
        "released": hold.released,
    }
