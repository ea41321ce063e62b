"""What a batch of held prompts becomes: OpenCode parts, made for the session's model.

Each prompt gives its quoted message, its words, its attachments (built for what the
model takes in: `kimaki.attachments`) and its tag, in order. Whether the model takes
images or PDFs is read from OpenCode's model list (cached a little: it rarely changes),
for the model the thread chose, else the one the session uses now, else the default.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from kimaki import attachments
from kimaki.attachments.parts import Accepts
from kimaki.bridge import ThreadBridge
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import ModelRef, ProviderCatalog
from kimaki.opencode.prompt import PromptPart
from kimaki.opencode.rest import OpenCodeClient
from kimaki.render import render_notice
from kimaki.store import Outgoing, QueuedPrompt, synthetic_key

from . import prompt as rows
from .busy import Look

log = logging.getLogger(__name__)

CATALOG_TTL = 30.0


class Composer:
    def __init__(self, opencode: OpenCodeClient) -> None:
        self.opencode = opencode
        self._catalogs: dict[str, tuple[float, ProviderCatalog]] = {}

    async def parts(
        self, bridge: ThreadBridge, batch: Sequence[QueuedPrompt], model: ModelRef | None
    ) -> list[PromptPart]:
        accepts = await self._accepts(bridge, model)
        parts: list[PromptPart] = []
        for row in batch:
            parts += rows.words(row)
            files = rows.files_of(row)
            if files:
                built = await asyncio.to_thread(attachments.build, files, accepts)
                parts += built.parts
                self._tell_about(bridge, row, built)
            parts += rows.file_parts_of(row)
            parts.append(rows.tag(row))
        return parts

    async def _accepts(self, bridge: ThreadBridge, model: ModelRef | None) -> Accepts:
        """What the session's model takes in as itself (nothing, if that cannot be told)."""
        directory = str(bridge.record.directory)
        try:
            if model is None:
                model = (await self.opencode.config(directory)).model
            catalog = await self._catalog(directory)
        except OpenCodeError as exc:
            log.warning("thread %s: cannot read the model's inputs: %s", bridge.thread_id, exc)
            return lambda mime: False
        found = catalog.model(model) if model is not None else None
        return found.accepts if found is not None else (lambda mime: False)

    async def _catalog(self, directory: str) -> ProviderCatalog:
        cached = self._catalogs.get(directory)
        if cached is not None and time.monotonic() - cached[0] < CATALOG_TTL:
            return cached[1]
        catalog = await self.opencode.providers(directory)
        self._catalogs[directory] = (time.monotonic(), catalog)
        return catalog

    def _tell_about(
        self, bridge: ThreadBridge, row: QueuedPrompt, built: attachments.Built
    ) -> None:
        if built.unseen:
            names = ", ".join(f.filename for f in built.unseen)
            notice(
                bridge,
                synthetic_key("unseen-files", str(bridge.thread_id)),
                f"this session's model does not take images or PDFs as they are: {names} "
                "reached the agent as a file path it can read, as will later ones",
            )
        for saved, why in built.unreadable:
            notice(
                bridge,
                synthetic_key("unreadable", f"{row.source}-{saved.filename}"),
                f"could not read {saved.filename} ({why}); the rest of the message went through",
            )


def model_of(seen: Look) -> ModelRef | None:
    """The model the session uses now: the newest prompt's (a chosen model sticks)."""
    for message in reversed(seen.messages):
        if message.info.role == "user" and message.info.model is not None:
            return message.info.model
    return None


def notice(bridge: ThreadBridge, key: str, text: str, *, notify: bool = False) -> None:
    """Post a line from kimaki once per `key` (a key said before stays as it was)."""
    store = bridge.ctx.store
    if store.outbox.by_key(key) is not None:
        return
    outgoing = Outgoing(key, render_notice(text), notify=notify)
    if store.enqueue(bridge.thread_id, None, [outgoing]):
        bridge.ctx.outbox.kick(bridge.thread_id)
