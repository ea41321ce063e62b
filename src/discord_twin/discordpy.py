"""Pointing the real discord.py at a twin (or any Discord-compatible server)."""

from __future__ import annotations

from typing import Any

import discord
import discord.gateway
import discord.http

from kimaki.bot.endpoints import use_discord_endpoints


def point_discord_py_at(api_url: str, gateway_url: str) -> None:
    """Route every REST call and the gateway connection to these URLs.

    `api_url` is the versioned base (`http://host:port/api/v10`); `gateway_url` is the websocket
    (`ws://host:port/gateway`). Both are class attributes in discord.py, so this is process-wide.
    The patch itself is kimaki's own (`kimaki.bot.endpoints`), so the twin's tests exercise
    exactly what kimaki does against the real Discord.
    """
    use_discord_endpoints(api_url, gateway_url)


def current_endpoints() -> tuple[str, str]:
    """discord.py's current (api_url, gateway_url), to restore after a test."""
    return discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


def test_client_options() -> dict[str, Any]:
    """Client options that make discord.py quick against a local server."""
    return {"guild_ready_timeout": 0.05, "heartbeat_timeout": 10.0}


async def no_identify_sleep(shard_id: int | None, *, initial: bool = False) -> None:
    """Replacement for `Client.before_identify_hook`, whose default sleeps 5 s on re-identify."""
    return None


def make_test_friendly(client: discord.Client) -> discord.Client:
    client.before_identify_hook = no_identify_sleep  # type: ignore[method-assign]
    return client
