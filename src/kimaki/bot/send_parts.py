"""The parts behind `kimaki send` and scheduled sends, built and run together.

intake (takes each send once, through the prompt path) ← watcher (how its turn ended)
→ reporter (shows the outcome on the send's message); the scheduler posts scheduled
sends and hands them to the intake. Watching starts with the OpenCode-side parts;
taking sends starts after the start-up recovery of interrupted thread binds.
"""

from __future__ import annotations

from dataclasses import dataclass

from kimaki.bot.client import KimakiBot
from kimaki.bot.send_intake import SendIntake
from kimaki.bot.send_report import SendReporter
from kimaki.opencode.events import EventStream
from kimaki.opencode.rest import OpenCodeClient
from kimaki.sends.watch import SendWatcher
from kimaki.sessions import Sessions
from kimaki.store import Store
from kimaki.tasks.clock import Clock
from kimaki.tasks.scheduler import Scheduler


@dataclass(frozen=True)
class SendParts:
    intake: SendIntake
    watcher: SendWatcher
    reporter: SendReporter
    scheduler: Scheduler

    @classmethod
    def wire(
        cls,
        store: Store,
        sessions: Sessions,
        bot: KimakiBot,
        opencode: OpenCodeClient,
        events: EventStream,
        clock: Clock | None = None,
    ) -> SendParts:
        reporter = SendReporter(store, bot)
        watcher = SendWatcher(store, opencode, events, on_finished=lambda _: reporter.kick())
        intake = SendIntake(store, sessions, bot, bot.gate, watcher, reporter)
        scheduler = Scheduler(store, bot, intake.take, clock=clock)
        return cls(intake, watcher, reporter, scheduler)

    def start_watching(self) -> None:
        self.watcher.start()
        self.reporter.start()

    def start_taking(self) -> None:
        self.intake.start()
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.intake.stop()
        await self.watcher.stop()
        await self.reporter.stop()
