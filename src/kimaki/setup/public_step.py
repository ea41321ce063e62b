"""Step 3: say so when the bot is public; never block on it.

A public bot can be added to any server by anyone who has its ID. kimaki serves only
servers its owner trusts (see `kimaki.bot.trust`), so strangers cannot drive an agent
on this machine either way, but a private bot keeps it out of their servers altogether.
"""

from __future__ import annotations

from kimaki.setup.context import SetupContext
from kimaki.setup.intent_step import fetch_application


async def public_step(ctx: SetupContext) -> None:
    app = ctx.application or await fetch_application(ctx)
    if not app.bot_public:
        ctx.ui.say("✓ The bot is private: only you can add it to servers")
        return
    ctx.ui.say("! The bot is public: anyone who knows its ID can add it to their own server.")
    ctx.ui.say(
        "  kimaki serves only servers you trust, so nobody else reaches your machine, but to "
        "keep the bot out of other servers, switch it off:"
    )
    ctx.ui.say(
        f"  {app.bot_page} → Public Bot (off) → Save Changes (if the portal refuses, first "
        "set Installation → Install Link to None)."
    )
