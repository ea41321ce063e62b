"""Point discord.py at the configured Discord (the real one, the twin, or a compatible server)."""

from __future__ import annotations

import discord
import discord.gateway
import discord.http
import yarl


def use_discord_endpoints(api_url: str, gateway_url: str) -> None:
    """discord.py reads these class attributes for every REST call and gateway connect."""
    discord.http.Route.BASE = api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
