"""Small HTTP helpers shared by the REST API and the control API."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from .errors import REQUEST_TOO_LARGE, TwinError
from .ops import NewFile
from .state import Application

# Per-request storage: the authenticated application and the parsed body (for the request log).
APP_KEY = web.RequestKey("twin_app", Application)
BODY_KEY: web.RequestKey[Any] = web.RequestKey("twin_body", object)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with `Content-Type: application/json` exactly: discord.py compares the header."""
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def no_content(headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=204, headers=headers or {})


async def buffer_body(request: web.Request) -> None:
    """Read the whole body now, so a request can still be processed after its client is gone
    (aiohttp caches what `read()` and `post()` return)."""
    try:
        if request.content_type.startswith("multipart/"):
            await request.post()
        else:
            await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise TwinError(413, REQUEST_TOO_LARGE, "Request entity too large") from exc


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[NewFile]]:
    """JSON body, or multipart `payload_json` + `files[n]` as discord.py sends uploads."""
    await buffer_body(request)
    if request.content_type.startswith("multipart/"):
        return _multipart_body((await request.post()).items())
    raw = await request.read()
    if not raw:
        return {}, []
    parsed = json.loads(raw)
    return (parsed if isinstance(parsed, dict) else {"_list": parsed}), []


def _multipart_body(fields: Iterable[tuple[str, Any]]) -> tuple[dict[str, Any], list[NewFile]]:
    payload: dict[str, Any] = {}
    files: list[NewFile] = []
    for name, value in fields:
        if name == "payload_json":
            payload = json.loads(value)
        elif name.startswith("files") and isinstance(value, web.FileField):
            files.append(
                NewFile(
                    filename=value.filename or "file",
                    data=value.file.read(),
                    content_type=value.content_type,
                )
            )
    descriptions = {
        str(a.get("id")): a.get("description") for a in payload.get("attachments") or []
    }
    for index, f in enumerate(files):
        f.description = descriptions.get(str(index))
    return payload, files


def snowflake(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
