"""The twin's web client at `/`: a Discord-like page where a person uses the twin as its guild
owner, and watches a bot work, live.

This module serves the page and its static files and mounts the page's API (`web_api.py`)
and live feed (`web_live.py`). The page itself is plain JavaScript modules in `static/`, with
no build step and nothing fetched from elsewhere.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web

from .web_api import WebApi, check_local
from .web_live import LiveFeed

if TYPE_CHECKING:
    from .control import Twin

STATIC_PREFIX = "/_twin/static/"
_CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".svg": "image/svg+xml",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.[a-z0-9]+$")
# Nothing on the page loads from elsewhere, and no script but ours runs: a second fence behind
# building every text as a text node.
CSP = (
    "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def add_viewer_routes(router: web.UrlDispatcher, twin: Twin) -> None:
    api = WebApi(twin)
    api.add_routes(router)
    LiveFeed(api).add_routes(router)

    async def page(request: web.Request) -> web.Response:
        """The page, titled after the guilds (so a tab says which twin it shows)."""
        check_local(request, writes=False)
        response = _static_file("index.html")
        guilds = ", ".join(g.name for g in twin.store.guilds.values()) or "no guilds"
        title = html.escape(f"{guilds} · discord twin")
        assert isinstance(response.body, bytes)
        response.body = response.body.replace(
            b"<title>discord twin</title>", f"<title>{title}</title>".encode()
        )
        return response

    async def static(request: web.Request) -> web.Response:
        check_local(request, writes=False)
        return _static_file(request.match_info["name"])

    router.add_get("/", page)
    router.add_get(STATIC_PREFIX + "{name}", static)


def _static_file(name: str) -> web.Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if not _NAME.match(name) or suffix not in _CONTENT_TYPES:
        raise web.HTTPNotFound()
    path = resources.files("discord_twin").joinpath("static", name)
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type=_CONTENT_TYPES[suffix],
        charset="utf-8" if suffix in (".html", ".js", ".css", ".svg") else None,
        headers={
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": CSP,
        },
    )
