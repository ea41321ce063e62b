"""Step 5: project channels, picked from the projects OpenCode already knows.

OpenCode lists every project it has seen (`GET /project`); the most recently used come
first, those already registered in the server are left out, and "another path…" takes
any other directory. Channels are made as `kimaki project add` makes them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import discord

from kimaki.bot.rest_client import rest_client
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import Project
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServerError
from kimaki.projects import ProjectError, add_project, checked_directory
from kimaki.setup.context import SetupContext
from kimaki.setup.discord_api import GuildBrief
from kimaki.setup.invite_step import bot_guilds
from kimaki.setup.ui import Option
from kimaki.store import GuildID, TrustSource


@dataclass(frozen=True)
class Known:
    directory: Path
    updated: int


async def projects_step(ctx: SetupContext) -> None:
    guild = ctx.guild or await _pick_guild(ctx)
    if guild is None:
        ctx.ui.say("! The bot is in no server yet: run `kimaki setup invite` first.")
        return
    registered = {p.directory for p in ctx.store.projects.all() if p.guild_id == guild.id}
    known = [k for k in await _known_projects(ctx) if k.directory not in registered]
    if registered:
        ctx.ui.say(f"Already channels in {guild.name}: " + ", ".join(map(str, sorted(registered))))
    choices: list[Path | None] = [None]  # None: "another path…"
    if known:
        options: list[Option[Path | None]] = [Option(str(k.directory), k.directory) for k in known]
        options.append(Option("another path…", None))
        choices = await ctx.ui.choose_many(f"Projects to put in {guild.name}:", options)
    else:
        ctx.ui.say("OpenCode knows no other projects yet: give a directory (empty to skip).")
    picked = [c for c in choices if c is not None]
    if None in choices:
        picked += await _other_paths(ctx)
    if picked:
        await _create_channels(ctx, guild, picked)
    else:
        ctx.ui.say("No projects picked; add them later with `kimaki project add PATH`.")


async def _pick_guild(ctx: SetupContext) -> GuildBrief | None:
    guilds = await bot_guilds(ctx)
    if len(guilds) <= 1:
        return guilds[0] if guilds else None
    options = [Option(f"{g.name} ({g.id})", g) for g in guilds]
    return await ctx.ui.choose_one("Which server gets the project channels?", options)


async def _known_projects(ctx: SetupContext) -> list[Known]:
    """OpenCode's projects, most recent first; [] (with a word why) if OpenCode is down."""
    booting = asyncio.ensure_future(ctx.opencode())

    async def booted() -> Endpoint | None:
        return booting.result() if booting.done() else None

    try:
        endpoint = await ctx.ui.wait_for("Asking OpenCode for its projects…", booted, interval=0.1)
        async with OpenCodeClient(endpoint) as client:
            projects = await client.projects()
    except (OpenCodeServerError, OpenCodeError) as exc:
        ctx.ui.say(f"! OpenCode cannot list its projects ({exc}); give paths instead.")
        return []
    finally:
        booting.cancel()
    return known_projects(projects)


def known_projects(projects: list[Project]) -> list[Known]:
    """Existing project directories (not OpenCode's global "/" one), newest first."""
    found: dict[Path, Known] = {}
    for project in projects:
        if not project.worktree or project.worktree == "/":
            continue
        directory = Path(project.worktree)
        if not directory.is_dir():
            continue
        known = Known(directory, _updated(project))
        if directory not in found or found[directory].updated < known.updated:
            found[directory] = known
    return sorted(found.values(), key=lambda k: (-k.updated, str(k.directory)))


def _updated(project: Project) -> int:
    times = project.raw.get("time")
    if not isinstance(times, dict):
        return 0
    value = times.get("updated") or times.get("created") or 0
    return int(value) if isinstance(value, int | float) else 0


async def _other_paths(ctx: SetupContext) -> list[Path]:
    paths: list[Path] = []
    while raw := await ctx.ui.path("Project directory (empty when done):"):
        try:
            paths.append(checked_directory(raw))
        except ProjectError as exc:
            ctx.ui.say(f"! {exc}")
    return paths


async def _create_channels(ctx: SetupContext, guild: GuildBrief, directories: list[Path]) -> None:
    assert ctx.token is not None
    try:
        async with rest_client(ctx.config, ctx.token) as client:
            server = await client.fetch_guild(guild.id)
            for directory in directories:
                try:
                    added = await add_project(
                        ctx.store, server, directory, category=ctx.config.category
                    )
                except ProjectError as exc:
                    ctx.ui.say(f"! {exc}")
                    continue
                ctx.ui.say(f"✓ #{added.channel.name} for {directory}")
    except (discord.HTTPException, OSError) as exc:
        ctx.ui.say(f"! Discord refused to make the channels ({exc}); try `kimaki project add`.")
        return
    # The person chose this server for their projects: kimaki serves it.
    ctx.store.trusted_guilds.add(GuildID(guild.id), TrustSource.PROJECT)
