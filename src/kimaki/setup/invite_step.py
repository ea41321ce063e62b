"""Step 4: the bot in a server, and that server trusted.

The invite link asks for exactly the permissions kimaki uses (`kimaki.bot.invite`).
The setup then watches `GET /users/@me/guilds` until a server appears that the bot was
not in before: the person just chose it, so kimaki serves it (a `trusted_guilds` row,
as `kimaki guild allow` writes; `kimaki guild list` shows it).
"""

from __future__ import annotations

from kimaki.bot.invite import invite_url
from kimaki.setup.context import SetupContext, StepFailed
from kimaki.setup.discord_api import DiscordUnreachable, GuildBrief, TokenRefused
from kimaki.setup.intent_step import fetch_application
from kimaki.store import GuildID, TrustSource

POLL_SECONDS = 1.5
REFUSED = "Discord refuses the bot token (401): run `kimaki setup token`"


async def invite_step(ctx: SetupContext) -> None:
    app = ctx.application or await fetch_application(ctx)
    before = await bot_guilds(ctx)
    if before:
        names = ", ".join(g.name for g in before)
        ctx.ui.say(f"✓ The bot is in {len(before)} server{'s' if len(before) > 1 else ''}: {names}")
        if not await ctx.ui.confirm("Add it to another server?", default=False):
            if len(before) == 1:
                ctx.guild = before[0]
            return
    ctx.ui.say("Add the bot to your server: open this link, pick the server, press Authorize.")
    ctx.ui.say(f"  {invite_url(app.id)}")
    known = {g.id for g in before}

    async def joined() -> list[GuildBrief] | None:
        try:
            now = await ctx.discord().guilds()
        except DiscordUnreachable:
            return None  # a network hiccup: keep waiting
        except TokenRefused:
            raise StepFailed(REFUSED) from None
        return [g for g in now if g.id not in known] or None

    new = await ctx.ui.wait_for(
        "Waiting for the bot to join a server… (Ctrl-C stops)", joined, interval=POLL_SECONDS
    )
    for guild in new:
        ctx.store.trusted_guilds.add(GuildID(guild.id), TrustSource.ALLOWED)
        ctx.trusted_now.append(guild)
        ctx.ui.say(f"✓ The bot joined {guild.name} ({guild.id}); kimaki serves it")
    ctx.guild = new[0]


async def bot_guilds(ctx: SetupContext) -> list[GuildBrief]:
    try:
        return await ctx.discord().guilds()
    except TokenRefused:
        raise StepFailed(REFUSED) from None
    except DiscordUnreachable as exc:
        raise StepFailed(f"{exc}: check the network connection") from None
