"""Does the user's OpenCode have a model? Asked before the demo page opens, so a person never
writes into a page where nothing answers.

OpenCode's `GET /config/providers` lists the providers it can use in a directory (configured,
logged in, or free ones it offers itself), each with its models; none means no prompt can be
answered.
"""

from __future__ import annotations

from pathlib import Path

from kimaki.opencode.models import ProviderCatalog
from kimaki.opencode.rest import OpenCodeClient

NO_MODEL = (
    "your OpenCode has no model to answer with: run `opencode auth login` (or add a provider "
    "to ~/.config/opencode/opencode.json), then run `kimaki demo` again"
)


def provider_names(catalog: ProviderCatalog) -> list[str]:
    """The names of the providers that offer at least one model."""
    return [p.name or p.id for p in catalog.providers if p.models]


async def model_providers(client: OpenCodeClient, directory: Path) -> list[str]:
    """The providers OpenCode can answer with in `directory` (its project config counts)."""
    return provider_names(await client.providers(str(directory)))
