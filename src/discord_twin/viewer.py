"""Read-only HTML view of the twin's guilds, so a person can watch what a bot does.

The page is rendered on the server (it reads fine without JavaScript); `static/viewer.js`
re-fetches the body fragment every second and swaps it in, keeping the scroll position.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web

from .render import _components_text, _embed_text, author_name
from .state import EPHEMERAL, GUILD_CATEGORY, LOADING, Channel, Guild, Message, Store

if TYPE_CHECKING:
    from .control import Twin

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>discord twin</title>
<link rel="stylesheet" href="/_twin/static/viewer.css">
</head>
<body>
<header><h1>discord twin</h1><span id="status">static</span></header>
<main id="view">{body}</main>
<script src="/_twin/static/viewer.js"></script>
</body>
</html>
"""


def add_viewer_routes(router: web.UrlDispatcher, twin: Twin) -> None:
    async def page(request: web.Request) -> web.Response:
        body = _PAGE.format(body=render_view(twin.store))
        return web.Response(text=body, content_type="text/html")

    async def fragment(request: web.Request) -> web.Response:
        return web.Response(text=render_view(twin.store), content_type="text/html")

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ("viewer.js", "viewer.css"):
            raise web.HTTPNotFound()
        text = resources.files("discord_twin").joinpath("static", name).read_text("utf-8")
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return web.Response(text=text, content_type=kind)

    router.add_get("/", page)
    router.add_get("/_twin/view", fragment)
    router.add_get("/_twin/static/{name}", static)


def render_view(store: Store) -> str:
    return "\n".join(_guild(store, g) for g in store.guilds.values()) or "<p>No guilds.</p>"


def _e(text: object) -> str:
    return html.escape(str(text))


def _guild(store: Store, guild: Guild) -> str:
    channels = sorted(store.guild_channels(guild.id), key=lambda c: (c.position, c.id))
    parts = [f'<section class="guild"><h2>{_e(guild.name)}</h2>']
    top = [c for c in channels if c.parent_id is None and c.type != GUILD_CATEGORY]
    parts += [_channel(store, c) for c in top]
    for category in (c for c in channels if c.type == GUILD_CATEGORY):
        parts.append(f'<div class="category"><h3>{_e(category.name.upper())}</h3>')
        parts += [_channel(store, c) for c in channels if c.parent_id == category.id]
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _channel(store: Store, channel: Channel) -> str:
    topic = f' <span class="topic">{_e(channel.topic)}</span>' if channel.topic else ""
    parts = [
        f'<article class="channel" data-channel="{channel.id}">',
        f"<h4># {_e(channel.name)}{topic}</h4>",
        _messages(store, channel),
    ]
    for thread in sorted(store.threads(parent_id=channel.id), key=lambda t: t.id):
        flags = " archived" if thread.archived else ""
        flags += " locked" if thread.locked else ""
        parts += [
            f'<details class="thread{flags}" open data-channel="{thread.id}">',
            f"<summary>thread: {_e(thread.name)}"
            f' <span class="meta">{_plural(thread.message_count, "message")}{_e(flags)}</span>'
            "</summary>",
            _messages(store, thread),
            "</details>",
        ]
    parts.append("</article>")
    return "\n".join(parts)


def _messages(store: Store, channel: Channel) -> str:
    messages = store.live_messages(channel.id)
    if not messages:
        return '<p class="empty">no messages</p>'
    return '<ol class="messages">' + "".join(_message(store, m) for m in messages) + "</ol>"


def _message(store: Store, message: Message) -> str:
    user = store.users.get(message.author_id)
    classes = ["message", "bot" if user and user.bot else "user"]
    marks = []
    if message.flags & EPHEMERAL or message.ephemeral_for is not None:
        marks.append("ephemeral")
    if message.flags & LOADING:
        marks.append("thinking…")
    if message.edited_at:
        marks.append("edited")
    when = datetime.fromtimestamp(message.created_at, UTC).strftime("%H:%M:%S")
    extra = "".join(f"<div class='embed'>{_e(_embed_text(e))}</div>" for e in message.embeds)
    extra += "".join(f"<div class='file'>file: {_e(a.filename)}</div>" for a in message.attachments)
    components = _components_text(message.components)
    if components:
        extra += f"<div class='components'>{_e(components)}</div>"
    mark = f' <span class="marks">({", ".join(marks)})</span>' if marks else ""
    return (
        f'<li class="{" ".join(classes)}" data-message="{message.id}">'
        f'<span class="time">{when}</span> <b class="author">{_e(author_name(store, message))}</b>'
        f'{mark}<div class="content">{_e(message.content)}</div>{extra}</li>'
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
