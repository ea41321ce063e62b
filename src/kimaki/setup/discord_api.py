"""The three Discord REST reads the guided setup checks with, and nothing else.

A bot token, its application's switches and the servers the bot is in are three GETs;
a discord.py client would also open the gateway machinery and hide a 401 behind its
own login. Plain aiohttp keeps each answer, and each failure, in the setup's hands.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
PORTAL = "https://discord.com/developers/applications"


class TokenRefused(Exception):
    """Discord answered 401: not a bot token, or one that was reset."""


class DiscordUnreachable(Exception):
    """No answer, or an unexpected one; the message says which."""


@dataclass(frozen=True)
class BotUser:
    id: int
    name: str


@dataclass(frozen=True)
class Application:
    id: int
    name: str
    flags: int
    bot_public: bool

    @property
    def message_content(self) -> bool:
        """The intent is on (the `_LIMITED` flag is the same switch for unverified bots)."""
        return bool(self.flags & (GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED))

    @property
    def bot_page(self) -> str:
        return f"{PORTAL}/{self.id}/bot"


@dataclass(frozen=True)
class GuildBrief:
    id: int
    name: str


class DiscordAPI:
    def __init__(self, session: aiohttp.ClientSession, api_url: str, token: str) -> None:
        self.session = session
        self.api_url = api_url.rstrip("/")
        self.token = token

    async def me(self) -> BotUser:
        data = await self._get("/users/@me")
        name = data.get("global_name") or data.get("username") or "?"
        return BotUser(int(data["id"]), str(name))

    async def application(self) -> Application:
        data = await self._get("/applications/@me")
        return Application(
            id=int(data["id"]),
            name=str(data.get("name") or "your application"),
            flags=int(data.get("flags") or 0),
            bot_public=bool(data.get("bot_public")),
        )

    async def guilds(self) -> list[GuildBrief]:
        data = await self._get("/users/@me/guilds")
        return [GuildBrief(int(g["id"]), str(g.get("name") or g["id"])) for g in data]

    async def _get(self, path: str, *, attempts: int = 3) -> Any:
        headers = {"Authorization": f"Bot {self.token}", "User-Agent": "kimaki-setup"}
        url = self.api_url + path
        for _ in range(attempts):
            try:
                async with self.session.get(
                    url, headers=headers, timeout=aiohttp.ClientTimeout(total=15)
                ) as resp:
                    if resp.status == 401:
                        raise TokenRefused()
                    if resp.status == 429:
                        await asyncio.sleep(_retry_after(await resp.json(content_type=None)))
                        continue
                    if resp.status != 200:
                        body = (await resp.text())[:200]
                        raise DiscordUnreachable(f"{path} answered {resp.status}: {body}")
                    return await resp.json()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise DiscordUnreachable(
                    f"cannot reach Discord at {self.api_url}: {exc or type(exc).__name__}"
                ) from None
        raise DiscordUnreachable(f"{path} stayed rate limited")


def _retry_after(body: Any) -> float:
    try:
        return min(float(body.get("retry_after", 1.0)), 10.0)
    except (AttributeError, TypeError, ValueError):
        return 1.0
