"""`kimaki guild list|allow|forget`: which Discord servers kimaki serves.

Like `kimaki project`, these work whether or not the bot runs: they write the store,
which the running bot reads on every check (slash commands follow within seconds).
`list` also asks Discord, when a token is at hand, which servers the bot is in and
whether each is served (owned by the bot's owner or team, or allowed here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

import discord

from kimaki import config
from kimaki.bot.rest_client import rest_client
from kimaki.bot.token import TokenMissing, load_token
from kimaki.bot.trust import Trust, owners_of
from kimaki.config import Config
from kimaki.store import GuildID, Store, StoreError, TrustSource


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    guild = commands.add_parser("guild", help="list, allow or forget the servers kimaki serves")
    actions = guild.add_subparsers(dest="action", metavar="ACTION", required=True)
    config.add_arguments(guild, only={"data_dir"})
    listing = actions.add_parser("list", help="servers kimaki serves, and those it does not")
    listing.add_argument("--json", action="store_true", help="print JSON")
    allow = actions.add_parser("allow", help="serve a server its owner is not the bot's owner")
    allow.add_argument("guild_id", metavar="GUILD_ID")
    forget = actions.add_parser("forget", help="stop serving a server allowed before")
    forget.add_argument("guild_id", metavar="GUILD_ID")


def run_guild_command(args: argparse.Namespace, settings: Config) -> int:
    try:
        store = Store.open(settings.data_dir)
    except StoreError as exc:
        print(f"kimaki: {exc}", file=sys.stderr)
        return 1
    try:
        if args.action == "list":
            return asyncio.run(_list(store, settings, as_json=args.json))
        guild_id = _snowflake(args.guild_id)
        if guild_id is None:
            print(f"kimaki: {args.guild_id!r} is not a server id (digits)", file=sys.stderr)
            return 2
        if args.action == "allow":
            return _allow(store, guild_id)
        return _forget(store, guild_id)
    finally:
        store.close()


def _snowflake(raw: str) -> GuildID | None:
    text = raw.strip()
    return GuildID(int(text)) if text.isdigit() and 0 < int(text) < 2**64 else None


def _allow(store: Store, guild_id: GuildID) -> int:
    if store.trusted_guilds.add(guild_id, TrustSource.ALLOWED):
        print(f"allowed server {guild_id}; a running kimaki serves it within a few seconds")
    else:
        print(f"server {guild_id} was already trusted")
    return 0


def _forget(store: Store, guild_id: GuildID) -> int:
    if not store.trusted_guilds.remove(guild_id):
        print(
            f"server {guild_id} was not allowed here (a server owned by the bot's owner is "
            "always served)"
        )
        return 0
    print(f"kimaki no longer serves server {guild_id} (unless the bot's owner owns it)")
    projects = [p for p in store.projects.all() if p.guild_id == guild_id]
    if projects:
        print(
            f"its {len(projects)} project(s) stay registered but unserved; forget them with: "
            + "; ".join(f"kimaki project remove {p.channel_id}" for p in projects)
        )
    return 0


@dataclass(frozen=True)
class GuildRow:
    guild_id: str
    name: str | None
    served: bool
    reason: str
    """owner, allowed, project, or not-served; `bot not in it` when Discord does not list it."""


async def _list(store: Store, settings: Config, *, as_json: bool) -> int:
    rows, note = await _rows(store, settings)
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        if not rows:
            print("no servers yet: invite the bot (see kimaki's log for the link)")
        for row in rows:
            mark = "served    " if row.served else "not served"
            name = f"  {row.name}" if row.name else ""
            hint = "" if row.served else f"  (kimaki guild allow {row.guild_id})"
            print(f"{mark}  {row.guild_id}{name}  [{row.reason}]{hint}")
    if note:
        print(f"kimaki: {note}", file=sys.stderr)
    return 0


async def _rows(store: Store, settings: Config) -> tuple[list[GuildRow], str | None]:
    """What Discord says, joined with what the store says; the store alone if Discord is
    out of reach (with a note saying why)."""
    trust = Trust(store)
    seen: dict[str, GuildRow] = {}
    note = None
    try:
        token = load_token(settings.bot_token, settings.data_dir, interactive=False)
        async with rest_client(settings, token) as client:
            if client.application is not None:
                trust.owners = owners_of(client.application)
            async for partial in client.fetch_guilds(limit=200):
                guild = await client.fetch_guild(partial.id)
                why = trust.why_served(guild.id, guild.owner_id)
                seen[str(guild.id)] = GuildRow(
                    str(guild.id), guild.name, why is not None, why or "not-served"
                )
    except (TokenMissing, discord.LoginFailure, discord.HTTPException, OSError) as exc:
        note = f"could not ask Discord ({exc}); showing only the servers allowed here"
    for trusted in store.trusted_guilds.all():
        key = str(trusted.guild_id)
        if key not in seen:
            reason = trusted.source.value if note else f"{trusted.source.value}, bot not in it"
            seen[key] = GuildRow(key, None, True, reason)
    return list(seen.values()), note
