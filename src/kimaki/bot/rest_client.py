"""A REST-only Discord login for command-line work (no gateway, no running bot needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord

from kimaki.bot.endpoints import use_discord_endpoints
from kimaki.config import Config


@asynccontextmanager
async def rest_client(settings: Config, token: str) -> AsyncIterator[discord.Client]:
    """A logged-in client (`LoginFailure` on a bad token) that is closed afterwards."""
    use_discord_endpoints(settings.discord_api_url, settings.discord_gateway_url)
    # No gateway here, but discord.py warns about its state cache without the guilds intent.
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents)
    try:
        await client.login(token)
        yield client
    finally:
        await client.close()
