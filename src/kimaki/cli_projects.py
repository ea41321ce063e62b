"""`kimaki project add|list|remove`: manage projects whether or not the bot is running.

These open the same SQLite store the bot uses (WAL lets both at once); the bot reads
projects from the store on every tick, so a running bot sees a change at once. Adding
a project needs Discord (to create the channel) but not the gateway: a REST-only login.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import discord

from kimaki import config
from kimaki.bot.rest_client import rest_client
from kimaki.bot.token import TokenMissing, load_token
from kimaki.config import Config
from kimaki.projects import ProjectError, add_project, find_project, remove_project
from kimaki.store import GuildID, Store, StoreError, TrustSource


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    project = commands.add_parser("project", help="add, list or remove project channels")
    actions = project.add_subparsers(dest="action", metavar="ACTION", required=True)
    config.add_arguments(project, only={"data_dir"})
    add = actions.add_parser("add", help="create a channel for a project directory")
    add.add_argument("path", help="the project directory")
    add.add_argument("--guild", type=int, help="the server (guild) id, if the bot is in several")
    listing = actions.add_parser("list", help="list registered projects")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser("remove", help="forget a project (its channel stays)")
    remove.add_argument("target", metavar="CHANNEL_ID|PATH")


def run_project_command(args: argparse.Namespace, settings: Config) -> int:
    try:
        store = Store.open(settings.data_dir)
    except StoreError as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    try:
        if args.action == "list":
            return _list(store, as_json=args.json)
        if args.action == "remove":
            return _remove(store, args.target)
        return asyncio.run(_add(store, settings, args.path, args.guild))
    except ProjectError as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _list(store: Store, *, as_json: bool) -> int:
    projects = store.projects.all()
    if as_json:
        rows = [
            {
                "channel_id": str(p.channel_id),
                "guild_id": str(p.guild_id),
                "directory": str(p.directory),
            }
            for p in projects
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not projects:
        print("no projects yet: kimaki project add PATH")
    for p in projects:
        print(f"{p.channel_id}  {p.directory}  (guild {p.guild_id})")
    return 0


def _remove(store: Store, target: str) -> int:
    project = find_project(store, target)
    remove_project(store, project)
    print(f"removed {project.directory} (channel {project.channel_id} stays in Discord)")
    return 0


async def _add(store: Store, settings: Config, path: str, guild_id: int | None) -> int:
    try:
        token = load_token(settings.bot_token, settings.data_dir)
    except TokenMissing as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    try:
        async with rest_client(settings, token) as client:
            guild = await _pick_guild(client, guild_id)
            added = await add_project(store, guild, path, category=settings.category)
    except discord.LoginFailure:
        print("kimaki: Discord refused the bot token (KIMAKI_BOT_TOKEN)", file=sys.stderr)
        return 1
    except (discord.HTTPException, OSError) as exc:
        print(f"kimaki: Discord request failed: {exc}", file=sys.stderr)
        return 1
    # The local user chose this server: kimaki serves it (see `kimaki guild`).
    store.trusted_guilds.add(GuildID(guild.id), TrustSource.PROJECT)
    print(f"added {added.project.directory} as #{added.channel.name} in {guild.name}")
    print(added.channel.id)
    return 0


async def _pick_guild(client: discord.Client, guild_id: int | None) -> discord.Guild:
    if guild_id is not None:
        try:
            return await client.fetch_guild(guild_id)
        except discord.NotFound:
            raise ProjectError(f"the bot is not in a server with id {guild_id}") from None
    guilds = [g async for g in client.fetch_guilds(limit=200)]
    if not guilds:
        raise ProjectError("the bot is in no server yet: invite it first (see kimaki's log)")
    if len(guilds) > 1:
        names = ", ".join(f"{g.name} ({g.id})" for g in guilds)
        raise ProjectError(f"the bot is in several servers; pass --guild ID: {names}")
    return await client.fetch_guild(guilds[0].id)
