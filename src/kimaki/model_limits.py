"""Models' context windows, read from OpenCode (`GET /config/providers`) and kept a while.

The footer shows how full the context is against the model's limit. The catalog is
read per directory (a project's `opencode.json` may add providers) at most once per
`TTL` seconds, and only when a footer is about to be written; a failed read is logged
and the footer goes without the percentage.
"""

from __future__ import annotations

import logging
import time

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import ModelRef, ProviderCatalog
from kimaki.opencode.rest import OpenCodeClient

log = logging.getLogger(__name__)

TTL = 600.0


class ModelLimits:
    def __init__(self, opencode: OpenCodeClient, ttl: float = TTL) -> None:
        self._opencode = opencode
        self._ttl = ttl
        self._catalogs: dict[str, tuple[float, ProviderCatalog | None]] = {}

    async def load(self, directory: str) -> None:
        """Read the directory's catalog unless a recent one is kept."""
        kept = self._catalogs.get(directory)
        if kept is not None and time.monotonic() - kept[0] < self._ttl:
            return
        try:
            catalog: ProviderCatalog | None = await self._opencode.providers(directory)
        except OpenCodeError as exc:
            log.warning(
                "cannot read the models of %s (footers go without limits): %s", directory, exc
            )
            catalog = None
        self._catalogs[directory] = (time.monotonic(), catalog)

    def context_limit(self, directory: str, model: ModelRef) -> int | None:
        """The model's context window in tokens, if the loaded catalog knows it."""
        kept = self._catalogs.get(directory)
        found = kept[1].model(model) if kept is not None and kept[1] is not None else None
        return found.context_limit if found is not None else None
