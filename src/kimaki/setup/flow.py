"""The guided setup's order of steps, and how it ends: a token to start with, or a code.

Every step checks what is already there before asking, so running the setup again
(`kimaki setup`, or one step: `kimaki setup intent`) is safe and quick; what the steps
store (the token file, trusted servers, projects) is what kimaki reads at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import aiohttp

from kimaki.config import Config
from kimaki.setup import STEP_NAMES
from kimaki.setup.context import OpenCodeSource, SetupContext, StepFailed
from kimaki.setup.intent_step import intent_step
from kimaki.setup.invite_step import invite_step
from kimaki.setup.projects_step import projects_step
from kimaki.setup.public_step import public_step
from kimaki.setup.token_step import TokenMode, token_step
from kimaki.setup.ui import UI, SetupCancelled
from kimaki.store import Store, StoreError

Step = Callable[[SetupContext], Awaitable[None]]

STEPS: dict[str, tuple[str, Step]] = {
    "token": ("Bot token", lambda ctx: token_step(ctx, TokenMode.FIRST)),
    "intent": ("Message Content intent", intent_step),
    "public": ("Public or private bot", public_step),
    "invite": ("Invite the bot to a server", invite_step),
    "projects": ("Project channels", projects_step),
}
assert tuple(STEPS) == STEP_NAMES


def stopped_line(how: str) -> str:
    return f"kimaki: setup stopped ({how}); what is done is kept: `kimaki setup` goes on."


async def guided_setup(
    config: Config,
    ui: UI,
    opencode: OpenCodeSource,
    steps: Sequence[str] = STEP_NAMES,
    *,
    again: bool = False,
    ask_start: bool = False,
) -> str | int:
    """Run `steps` in order: the token when done (and kimaki should start), else an exit code.

    `again` is `kimaki setup`: the person asked for the setup, so the token step offers
    to replace a working token. `ask_start` ends with "start kimaki now?" (no: exit 0).
    """
    try:
        store = Store.open(config.data_dir)
    except StoreError as exc:
        ui.say(f"kimaki: {exc}")
        return 1
    try:
        async with aiohttp.ClientSession() as http:
            ctx = SetupContext(config, ui, store, http, opencode)
            await _run_steps(ctx, steps, again=again)
            if ask_start and not await ui.confirm("Start kimaki now?", default=True):
                ui.say("Set up. `kimaki` starts it.")
                return 0
            assert ctx.token is not None
            return ctx.token
    except SetupCancelled as exc:
        ui.say()
        ui.say(stopped_line(exc.key))
        return exc.exit_code
    except StepFailed as exc:
        ui.say(f"kimaki: {exc}")
        return 1
    except asyncio.CancelledError:
        ui.say()
        ui.say(stopped_line("interrupted"))
        raise
    finally:
        store.close()


async def _run_steps(ctx: SetupContext, steps: Sequence[str], *, again: bool) -> None:
    if "token" not in steps:
        await token_step(ctx, TokenMode.CHECK)
    for number, name in enumerate(steps, 1):
        title, step = STEPS[name]
        ctx.ui.say()
        ctx.ui.say(f"[{number}/{len(steps)}] {title}")
        if name == "token" and again:
            await token_step(ctx, TokenMode.AGAIN)
        else:
            await step(ctx)
