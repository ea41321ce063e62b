"""What the setup steps share: settings, the store, the person, Discord and OpenCode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from kimaki.config import Config
from kimaki.opencode.endpoint import Endpoint
from kimaki.setup.discord_api import Application, DiscordAPI, GuildBrief
from kimaki.setup.ui import UI
from kimaki.store import Store

OpenCodeSource = Callable[[], Awaitable[Endpoint]]
"""The OpenCode server, once it is up (it boots while the first steps run)."""


class StepFailed(Exception):
    """A step cannot go on and the person cannot fix it from here; the message says how."""


@dataclass
class SetupContext:
    config: Config
    ui: UI
    store: Store
    http: aiohttp.ClientSession
    opencode: OpenCodeSource
    token: str | None = None
    application: Application | None = None
    guild: GuildBrief | None = None
    """The server the projects go to: the one just invited to, or picked."""
    trusted_now: list[GuildBrief] = field(default_factory=list)

    def discord(self, token: str | None = None) -> DiscordAPI:
        chosen = token or self.token
        assert chosen is not None, "the token step runs first"
        return DiscordAPI(self.http, self.config.discord_api_url, chosen)
