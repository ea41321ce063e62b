"""The guided setup's steps in-process, against the Discord twin and the real OpenCode.

A scripted person answers the prompts (tests/support/scripted_ui.py); Discord, the
store and OpenCode are the real pieces. The terminal itself is covered by
test_wizard_pty.py.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from discord_twin import Twin
from discord_twin.state import Application
from kimaki.bot.invite import invite_url
from kimaki.bot.token import stored_token, token_path
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer
from kimaki.projects import channel_name
from kimaki.setup.context import SetupContext, StepFailed
from kimaki.setup.flow import guided_setup
from kimaki.setup.intent_step import intent_step
from kimaki.setup.invite_step import invite_step
from kimaki.setup.projects_step import projects_step
from kimaki.setup.public_step import public_step
from kimaki.setup.token_step import REFUSED, TokenMode, token_step
from kimaki.store import GuildID, Store, TrustSource
from tests.support.kimaki_app import make_config
from tests.support.scripted_ui import Answer, ScriptedUI
from tests.support.waiting import eventually
from tests.support.world import commit_all

MakeContext = Callable[..., SetupContext]


@pytest.fixture
async def setup_ctx(
    twin: Twin, opencode_server: OpenCodeServer, tmp_path: Path
) -> AsyncIterator[MakeContext]:
    """A factory of setup contexts on one data dir: `make(ui, token=…, **env)`."""
    store = Store.open(tmp_path / "data")
    async with aiohttp.ClientSession() as http:

        async def opencode() -> Endpoint:
            assert opencode_server.endpoint is not None
            return opencode_server.endpoint

        def make(ui: ScriptedUI, *, token: str | None = None, **env: str) -> SetupContext:
            config = make_config(tmp_path / "data", twin, **env)
            return SetupContext(config, ui, store, http, opencode, token=token)

        yield make
    store.close()


def new_bot(twin: Twin, *, message_content: bool = True, public: bool = False) -> Application:
    """A freshly made bot in no server, as a new user has one."""
    assert twin.seed is not None
    app = twin.create_bot("fresh-bot", owner=twin.seed.owner)
    twin.update_application(app, message_content=message_content, bot_public=public)
    return app


# --- token


async def test_a_401_is_explained_and_a_good_token_is_stored_for_the_owner_only(
    twin: Twin, setup_ctx: MakeContext
) -> None:
    app = new_bot(twin)
    ui = ScriptedUI(
        [
            Answer("secret", ""),
            Answer("secret", "not-a-token"),
            Answer("secret", f"  Bot {app.token} \n"),
        ]
    )
    ctx = setup_ctx(ui)
    await token_step(ctx, TokenMode.FIRST)
    assert ctx.token == app.token
    assert "Nothing was pasted" in ui.transcript
    assert ui.said.count(REFUSED) == 1, ui.transcript
    assert "401 Unauthorized" in REFUSED and "Reset Token" in REFUSED
    path = token_path(ctx.config.data_dir)
    assert stored_token(None, ctx.config.data_dir) == app.token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "✓ bot fresh-bot" in ui.transcript

    # Again: the stored token works, so nothing is asked unless the person asked to redo it.
    again = ScriptedUI([])
    await token_step(setup_ctx(again), TokenMode.FIRST)
    assert again.asked == []
    redo = ScriptedUI([Answer("confirm", False)])
    await token_step(setup_ctx(redo), TokenMode.AGAIN)
    assert redo.asked == ["Replace it with another token?"]


async def test_a_reset_stored_token_is_asked_again(twin: Twin, setup_ctx: MakeContext) -> None:
    app = new_bot(twin)
    ctx = setup_ctx(ScriptedUI([Answer("secret", app.token)]))
    await token_step(ctx, TokenMode.FIRST)
    new_token = twin.reset_token(app)
    ui = ScriptedUI([Answer("secret", new_token)])
    await token_step(setup_ctx(ui), TokenMode.FIRST)
    assert "refuses the stored token" in ui.transcript
    assert stored_token(None, ctx.config.data_dir) == new_token
    with pytest.raises(StepFailed, match="kimaki setup token"):
        twin.reset_token(app)
        await token_step(setup_ctx(ScriptedUI([])), TokenMode.CHECK)


async def test_a_refused_environment_token_stops_the_setup_with_the_fix(
    twin: Twin, setup_ctx: MakeContext
) -> None:
    ui = ScriptedUI([])
    ctx = setup_ctx(ui, KIMAKI_BOT_TOKEN="nope")

    async def opencode() -> Endpoint:
        raise AssertionError("not needed")

    code = await guided_setup(ctx.config, ui, opencode)
    assert code == 1
    assert "Discord refuses KIMAKI_BOT_TOKEN (401)" in ui.transcript
    assert "Reset Token" in ui.transcript
    assert stored_token(None, ctx.config.data_dir) is None  # nothing written behind its back


async def test_ctrl_c_at_a_prompt_is_one_short_line(twin: Twin, setup_ctx: MakeContext) -> None:
    ui = ScriptedUI([Answer("cancel", "Ctrl-C")])
    ctx = setup_ctx(ui)

    async def opencode() -> Endpoint:
        raise AssertionError("not needed")

    assert await guided_setup(ctx.config, ui, opencode) == 130
    assert ui.said[-1].startswith("kimaki: setup stopped (Ctrl-C)"), ui.transcript


# --- intent and public bot


async def test_a_missing_intent_says_where_and_is_checked_again_on_enter(
    twin: Twin, setup_ctx: MakeContext
) -> None:
    app = new_bot(twin, message_content=False)
    ui = ScriptedUI(
        [
            Answer("pause"),  # pressed Enter without switching it on
            Answer("pause", before=lambda: twin.update_application(app, message_content=True)),
        ]
    )
    await intent_step(setup_ctx(ui, token=app.token))
    page = f"https://discord.com/developers/applications/{app.id}/bot"
    assert ui.transcript.count(page) == 2, ui.transcript
    assert "Privileged Gateway Intents → Message Content Intent" in ui.transcript
    assert ui.said[-1] == "✓ Message Content intent is on"


@pytest.mark.parametrize("public", [True, False])
async def test_a_public_bot_is_named_with_how_to_turn_it_off_without_asking(
    twin: Twin, setup_ctx: MakeContext, public: bool
) -> None:
    app = new_bot(twin, public=public)
    ui = ScriptedUI([])
    await public_step(setup_ctx(ui, token=app.token))
    assert ui.asked == []
    if public:
        assert "The bot is public" in ui.transcript
        assert f"applications/{app.id}/bot → Public Bot (off)" in ui.transcript
    else:
        assert ui.transcript == "✓ The bot is private: only you can add it to servers"


# --- invite


async def test_the_invite_waits_for_a_server_and_trusts_it(
    twin: Twin, setup_ctx: MakeContext
) -> None:
    assert twin.seed is not None
    app = new_bot(twin)
    ui = ScriptedUI([])
    ctx = setup_ctx(ui, token=app.token)
    step = asyncio.create_task(invite_step(ctx))
    await eventually(_async(lambda: bool(ui.waits)), timeout=30, what="the wait for the invite")
    assert invite_url(app.id) in ui.transcript
    assert "permissions=" in invite_url(app.id)
    guild = twin.create_guild("Home", owner=twin.seed.owner)
    twin.add_member(guild, twin.store.users[app.bot_user_id])  # the person authorized it
    await asyncio.wait_for(step, 30)
    assert ctx.guild is not None and ctx.guild.id == guild.id
    trusted = ctx.store.trusted_guilds.get(GuildID(guild.id))
    assert trusted is not None and trusted.source is TrustSource.ALLOWED
    assert f"✓ The bot joined Home ({guild.id})" in ui.transcript

    # Run again: already in Home, no wait unless the person wants another server.
    again = ScriptedUI([Answer("confirm", False)])
    ctx = setup_ctx(again, token=app.token)
    await invite_step(ctx)
    assert again.waits == []
    assert ctx.guild is not None and ctx.guild.id == guild.id


def _async(check: Callable[[], bool]) -> Callable[[], asyncio.Future[bool]]:
    def probe() -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        future.set_result(check())
        return future

    return probe


# --- projects


def offered_in(ui: ScriptedUI) -> list[str]:
    line = next(line for line in ui.said if line.startswith("options: "))
    return line.removeprefix("options: ").split(" | ")


async def test_projects_offer_opencode_known_ones_newest_first_and_another_path(
    twin: Twin,
    setup_ctx: MakeContext,
    opencode: OpenCodeClient,
    make_project: Callable[[str], Path],
) -> None:
    assert twin.seed is not None
    older, newer, other = make_project("older"), make_project("newer"), make_project("other")
    for directory in (older, newer):
        commit_all(directory)  # OpenCode knows a git project by its first commit
        await opencode.create_session(str(directory), title="known")
    ui = ScriptedUI(
        [
            Answer("many", [str(older), str(newer), "another path…"]),
            Answer("path", str(other / "missing")),
            Answer("path", str(other)),
            Answer("path", ""),
        ]
    )
    ctx = setup_ctx(ui, token=twin.seed.token)
    await projects_step(ctx)

    offered = offered_in(ui)
    assert offered.index(str(newer)) < offered.index(str(older)), offered
    assert offered[-1] == "another path…"
    assert f"{other / 'missing'} does not exist" in ui.transcript
    registered = {p.directory for p in ctx.store.projects.all()}
    assert registered == {older, newer, other}
    for directory in (older, newer, other):
        assert twin.channel_named(channel_name(directory)) is not None, ui.transcript
    trusted = ctx.store.trusted_guilds.get(GuildID(twin.seed.guild.id))
    assert trusted is not None and trusted.source is TrustSource.PROJECT

    # Again: what is registered is not offered again.
    fresh = make_project("fresh")
    commit_all(fresh)
    await opencode.create_session(str(fresh), title="known")
    again = ScriptedUI([Answer("many", [])])
    await projects_step(setup_ctx(again, token=twin.seed.token))
    offered = offered_in(again)
    assert offered[0] == str(fresh)
    assert not {str(older), str(newer), str(other)} & set(offered)
    assert "Already channels in" in again.transcript
