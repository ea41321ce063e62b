"""Step 1: a bot token that Discord accepts, stored readable only by its owner.

The token is checked the moment it is pasted (`GET /users/@me`), so a wrong paste is
explained here rather than ending a start later. KIMAKI_BOT_TOKEN, when set, wins and
is only checked: the setup never writes a token the environment would hide.
"""

from __future__ import annotations

import enum

from kimaki.bot.token import store_token, stored_token, token_path
from kimaki.setup.context import SetupContext, StepFailed
from kimaki.setup.discord_api import PORTAL, BotUser, DiscordUnreachable, TokenRefused

HOW_TO_GET_ONE = (
    "kimaki runs as your own Discord bot. To make one:",
    f"  1. Open {PORTAL} and press New Application (any name).",
    "  2. Open Bot, press Reset Token and copy the token it shows (once).",
    "Paste it below; it is hidden as you paste, checked with Discord, and stored in",
)

REFUSED = (
    "! Discord answered 401 Unauthorized: that is not a valid bot token. Copy it again "
    "from Bot → Reset Token (the application ID, public key or client secret will not "
    "work; a token that was reset since is dead too)."
)


class TokenMode(enum.Enum):
    CHECK = "check"  # another step needs the token: never ask
    FIRST = "first"  # ask when there is none, or Discord refuses the one there is
    AGAIN = "again"  # `kimaki setup token`: also offer to replace a working one


async def token_step(ctx: SetupContext, mode: TokenMode) -> None:
    config = ctx.config
    if config.bot_token:
        configured = await _check_configured(ctx, config.bot_token)
        ctx.ui.say(f"✓ bot {configured.name}, token from KIMAKI_BOT_TOKEN")
        ctx.token = config.bot_token
        return
    current = stored_token(None, config.data_dir)
    if current is not None:
        bot = await _check(ctx, current)
        if bot is not None:
            ctx.token = current
            ctx.ui.say(f"✓ bot {bot.name}, token stored in {token_path(config.data_dir)}")
            if mode is not TokenMode.AGAIN or not await ctx.ui.confirm(
                "Replace it with another token?", default=False
            ):
                return
        elif mode is TokenMode.CHECK:
            raise StepFailed("Discord refuses the stored bot token (401): run `kimaki setup token`")
        else:
            ctx.ui.say("! Discord refuses the stored token (401): it was probably reset.")
    elif mode is TokenMode.CHECK:
        raise StepFailed("no bot token yet: run `kimaki setup token` first")
    ctx.token = await _ask(ctx)


async def _ask(ctx: SetupContext) -> str:
    ui = ctx.ui
    for line in HOW_TO_GET_ONE:
        ui.say(line)
    ui.say(f"  {token_path(ctx.config.data_dir)}, readable only by you.")
    while True:
        token = _clean(await ui.secret("Bot token:"))
        if not token:
            ui.say("! Nothing was pasted. Paste the token (Ctrl-C stops the setup).")
            continue
        bot = await _check(ctx, token)
        if bot is None:
            ui.say(REFUSED)
            continue
        path = store_token(ctx.config.data_dir, token)
        ui.say(f"✓ bot {bot.name}; token stored in {path}")
        return token


async def _check(ctx: SetupContext, token: str) -> BotUser | None:
    """The bot the token belongs to, None on a 401; waits out a network problem."""
    while True:
        try:
            return await ctx.discord(token).me()
        except TokenRefused:
            return None
        except DiscordUnreachable as exc:
            ctx.ui.say(f"! {exc}: check the network connection.")
            await ctx.ui.pause("Press Enter to try again")


async def _check_configured(ctx: SetupContext, token: str) -> BotUser:
    try:
        return await ctx.discord(token).me()
    except TokenRefused:
        raise StepFailed(
            "Discord refuses KIMAKI_BOT_TOKEN (401): set it to the bot's current token "
            "(Developer Portal → your application → Bot → Reset Token), or unset it and run "
            "`kimaki setup` to store one"
        ) from None
    except DiscordUnreachable as exc:
        raise StepFailed(f"{exc}: check the network connection") from None


def _clean(pasted: str) -> str:
    """What people paste: surrounding blanks, quotes, or the `Bot ` header prefix."""
    token = pasted.strip().strip("\"'").strip()
    return token.removeprefix("Bot ").strip()
