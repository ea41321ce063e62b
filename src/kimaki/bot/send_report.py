"""Showing a send's outcome on its own message: for people, and for a `--wait` elsewhere.

When a send's turn ends, its message gets an `outcome` field (`✓ answered`, or `✗`
and why it failed). A send that asked to wait also gets the final text attached as
`answer.md`: a `kimaki send --wait` on another machine has no access to this store
and reads the outcome from Discord instead. The ledger's `reported` flag makes this
durable: what was not shown before a crash or a Discord outage is shown later.

This edits the send's own message (not thread content), so it does not go through
the outbox's ordered thread queue.
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord

from kimaki.sends.format import (
    ANSWER_FILE,
    ANSWERED_MARK,
    failure_line,
    outcome_embed,
    parse,
    send_embed,
)
from kimaki.store import SendRecord, SendState, Store
from kimaki.util import background_task
from kimaki.util.backoff import Backoff

log = logging.getLogger(__name__)


class SendReporter:
    def __init__(self, store: Store, client: discord.Client, backoff: Backoff | None = None):
        self.store = store
        self.client = client
        self.backoff = backoff or Backoff(initial=2.0, maximum=120.0)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = background_task.start(self._run(), name="send-report")
        self.kick()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def kick(self) -> None:
        """A send finished: show it."""
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                for record in self.store.sends.unreported():
                    await self.report(record)
                failures = 0
            except (discord.HTTPException, OSError) as exc:
                failures += 1
                delay = self.backoff.delay(failures)
                log.warning("cannot show a send's outcome yet (%s); again in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                self._wake.set()

    async def report(self, record: SendRecord) -> None:
        if record.state is SendState.NOTIFIED:
            self.store.sends.mark_reported(record.message_id)
            return
        channel = self.client.get_partial_messageable(record.channel_id)
        try:
            message = await channel.fetch_message(record.message_id)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.info("send %s: its message is out of reach (%s)", record.message_id, exc.status)
            self.store.sends.mark_reported(record.message_id)
            return
        embed = send_embed(message)
        request = parse(message)
        if embed is None or request is None:
            self.store.sends.mark_reported(record.message_id)
            return
        answered = record.state is SendState.ANSWERED
        line = ANSWERED_MARK if answered else failure_line(record.result or "failed")
        files: list[discord.Attachment | discord.File] = list(message.attachments)
        if answered and request.wait and record.result:
            answer = io.BytesIO(record.result.encode())
            files.append(discord.File(answer, filename=ANSWER_FILE))
        await message.edit(embed=outcome_embed(embed, line), attachments=files)
        self.store.sends.mark_reported(record.message_id)
