"""One kimaki run's parts, built in dependency order and connected in one place.

`wire` is where every arrow between the parts is drawn; `Kimaki` (app.py) starts and stops
what it returns. Nothing here runs anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from kimaki.asks import Asks
from kimaki.bot.catalog import CommandCatalog
from kimaki.bot.catch_up import CatchUp, CatchUpRoutes
from kimaki.bot.client import KimakiBot, Routes
from kimaki.bot.commands import (
    GuildCommands,
    Kit,
    ProjectDeps,
    QueueDeps,
    SessionDeps,
    SettingsDeps,
    TasksDeps,
    register_commands,
)
from kimaki.bot.commands.base import AnyCommand
from kimaki.bot.messages import MessageRoutes
from kimaki.bot.prompt_board import DiscordPromptBoard
from kimaki.bot.prompt_handlers import PromptHandlers
from kimaki.bot.queue_marks import ReactionMarks
from kimaki.bot.send_parts import SendParts
from kimaki.bridge import BridgeContext
from kimaki.bridges import Bridges
from kimaki.config import Config
from kimaki.opencode.endpoint import EndpointSource
from kimaki.opencode.events import EventStream
from kimaki.opencode.rest import OpenCodeClient
from kimaki.outbox import Outbox
from kimaki.prompt_options import PromptOptions
from kimaki.retention import Retention, RetentionSettings
from kimaki.router import EventRouter
from kimaki.sessions import Sessions
from kimaki.shell import ShellRunner
from kimaki.store import DiscordMessageID, Store, ThreadID
from kimaki.sync import SyncLoop, SyncSettings
from kimaki.sync.watch import StoreWatch
from kimaki.tasks.clock import Clock
from kimaki.turns import Turns, TurnSettings
from kimaki.util import background_task


@dataclass(frozen=True)
class Parts:
    """Everything one kimaki run is made of."""

    store: Store
    opencode: OpenCodeClient
    events: EventStream
    bot: KimakiBot
    outbox: Outbox
    bridges: Bridges
    sync: SyncLoop | None
    asks: Asks
    router: EventRouter
    sessions: Sessions
    turns: Turns
    catch_up: CatchUp
    retention: Retention
    serving: asyncio.Event
    """Set once the OpenCode-side parts run (`Kimaki.start`); Discord messages wait for it."""
    sends: SendParts
    catalog: CommandCatalog
    """OpenCode's agents and commands, which slash commands are made from."""


def wire(
    config: Config,
    opencode_endpoint: EndpointSource,
    bot_options: dict[str, Any],
    opencode_env: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> Parts:
    """Build every part in dependency order and connect them; nothing runs yet.

    The Discord client comes first, since everything that posts needs it. What Discord
    delivers flows the other way, to parts built after the client: its `Routes` are
    closures over the names assigned below, called only once the client has logged in,
    when every part exists. That is the one arrow that points back, and it is here.
    Messages wait until the OpenCode-side parts run (`serving`). `opencode_env` is the
    OpenCode server's environment: sync finds (and watches) OpenCode's store by it.
    """
    store = Store.open(config.data_dir)
    opencode = OpenCodeClient(opencode_endpoint)
    events = EventStream(opencode)
    serving = asyncio.Event()

    async def project_message(message: discord.Message) -> None:
        await serving.wait()
        await messages.in_project(message)

    async def thread_message(message: discord.Message) -> None:
        await serving.wait()
        await messages.in_thread(message)

    async def send_message(message: discord.Message) -> None:
        await serving.wait()
        await sends.intake.take(message)

    async def thread_deleted(thread_id: ThreadID) -> None:
        await bridges.thread_gone(thread_id, "deleted in Discord")

    async def message_edited(message: discord.Message) -> None:
        await serving.wait()
        await messages.edited(message)

    async def message_deleted(message_id: DiscordMessageID) -> None:
        await serving.wait()
        await messages.deleted(message_id)

    async def startup() -> None:
        await outbox.start()  # needs Discord only; the rest starts once OpenCode is up

    async def gateway_ready() -> None:
        if serving.is_set():  # a new gateway session, not the first: read what was missed
            catch_up.start()

    def guild_commands(guild: discord.Guild) -> Sequence[AnyCommand]:
        return made_from_opencode(guild)

    routes = Routes(
        project_message=project_message,
        thread_message=thread_message,
        thread_deleted=thread_deleted,
        startup=startup,
        prompt_actions=lambda: prompt_handlers,
        gateway_ready=gateway_ready,
        retry_missed=lambda: catch_up.soon(),
        guild_commands=guild_commands,
        send_message=send_message,
        message_edited=message_edited,
        message_deleted=message_deleted,
    )
    bot = KimakiBot(config, store, routes, **bot_options)

    async def thread_gone(thread_id: ThreadID, exc: discord.HTTPException) -> None:
        await bridges.thread_gone(thread_id, f"Discord answered {exc.status}")

    outbox = Outbox(store, bot, on_thread_gone=thread_gone)
    files_dir = config.data_dir / "files"
    bridges = Bridges(
        BridgeContext(store, opencode, outbox, bot, config.verbosity, files_dir=files_dir)
    )
    sync = None
    if not config.disable_sync:
        settings = SyncSettings(interval=config.sync_interval, grace=config.sync_grace)
        sync = SyncLoop(
            bridges,
            settings,
            watch=StoreWatch(opencode_env),
            events_up=events.connected.is_set,
        )
    poke_sync = sync.poke if sync is not None else None
    asks = Asks(
        bridges,
        DiscordPromptBoard(bot),
        timeout_minutes=config.permission_timeout,
        on_unbound_session=poke_sync,
    )
    prompt_options = PromptOptions(store, opencode)
    turns = Turns(
        bridges,
        TurnSettings(files_dir=files_dir, upload_data_dir=config.data_dir),
        marks=ReactionMarks(bot),
        options=prompt_options,
    )
    bot.turns = turns
    router = EventRouter(
        events, bridges, asks, on_unbound_session=poke_sync, on_turn_end=turns.poke
    )
    sessions = Sessions(bridges, turns, files_dir)
    shell = ShellRunner()
    messages = MessageRoutes(store, sessions, asks, turns, shell)
    sends = SendParts.wire(store, sessions, bot, opencode, events, clock)
    catch_up = CatchUp(
        bot,
        store,
        opencode,
        outbox,
        CatchUpRoutes(messages.in_project, messages.in_thread, sessions.follow_up),
        window_minutes=config.catch_up_window,
    )
    prompt_handlers = PromptHandlers(asks)
    retention = Retention(
        store,
        opencode,
        [bridges.prune_idle, asks.prune_locks, turns.prune_locks, bot.marks.prune],
        RetentionSettings(keep_days=config.retention_days),
    )
    kit = Kit(store, opencode, bridges, sessions, prompt_options, config, shell)
    register_commands(
        bot.tree,
        projects_deps=ProjectDeps(store, opencode, config),
        session_deps=SessionDeps(store, opencode, bridges),
        settings_deps=SettingsDeps(store),
        kit=kit,
        queue_deps=QueueDeps(store, turns),
        tasks_deps=TasksDeps(store, poke=sends.scheduler.poke),
    )
    builtin = [c.name for c in bot.tree.get_commands()]

    def catalog_changed() -> None:
        background_task.start(bot.place_commands(), name="place-commands")

    catalog = CommandCatalog(
        store, opencode, connections=lambda: events.connects, on_change=catalog_changed
    )
    made_from_opencode = GuildCommands(kit, catalog, lambda: builtin)
    return Parts(
        store,
        opencode,
        events,
        bot,
        outbox,
        bridges,
        sync,
        asks,
        router,
        sessions,
        turns,
        catch_up,
        retention,
        serving,
        sends,
        catalog,
    )
