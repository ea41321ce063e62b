"""Step 2: the Message Content intent, without which kimaki cannot read a prompt.

Discord shows the switch in the application's flags (`GET /applications/@me`); with it
off, the gateway refuses kimaki with close code 4014 at every start. So the setup says
exactly where the switch is and checks again when the person says it is on.
"""

from __future__ import annotations

from kimaki.setup.context import SetupContext, StepFailed
from kimaki.setup.discord_api import Application, DiscordUnreachable, TokenRefused


async def intent_step(ctx: SetupContext) -> None:
    app = await fetch_application(ctx)
    while not app.message_content:
        ctx.ui.say("! The Message Content intent is off: kimaki could not read what people write.")
        ctx.ui.say(
            f"  Switch it on: {app.bot_page} → Privileged Gateway Intents → "
            "Message Content Intent (on) → Save Changes."
        )
        await ctx.ui.pause("Press Enter to check again")
        app = await fetch_application(ctx)
    ctx.ui.say("✓ Message Content intent is on")


async def fetch_application(ctx: SetupContext) -> Application:
    """The application behind the token, read afresh (the person may just have changed it)."""
    try:
        ctx.application = await ctx.discord().application()
    except TokenRefused:
        raise StepFailed(
            "Discord refuses the bot token (401): run `kimaki setup token` to paste the current one"
        ) from None
    except DiscordUnreachable as exc:
        raise StepFailed(f"{exc}: check the network connection") from None
    return ctx.application
