"""Does the user's OpenCode have a model? Asked before the demo page opens, so a person never
writes into a page where nothing answers.

OpenCode's `GET /config/providers` lists the providers it can use in a directory (configured,
logged in, or free ones it offers itself), each with its models; an empty list means no prompt
can be answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from kimaki.opencode.client import OpenCodeClient, OpenCodeError, OpenCodeUnavailable

NO_MODEL = (
    "your OpenCode has no model to answer with: run `opencode auth login` (or add a provider "
    "to ~/.config/opencode/opencode.json), then run `kimaki demo` again"
)


def provider_names(payload: Any) -> list[str]:
    """The names of the providers in a `/config/providers` answer that offer a model."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("providers"), list):
        raise OpenCodeError("GET /config/providers: unexpected answer")
    names = []
    for provider in payload["providers"]:
        if isinstance(provider, Mapping) and provider.get("models"):
            names.append(str(provider.get("name") or provider.get("id") or "?"))
    return names


async def model_providers(client: OpenCodeClient, directory: Path) -> list[str]:
    """The providers OpenCode can answer with in `directory` (its project config counts)."""
    endpoint = client.endpoint()
    url = endpoint.base_url + "/config/providers"
    params = {"directory": str(directory)}
    try:
        async with client.http().get(url, params=params, headers=endpoint.headers) as resp:
            if resp.status != 200:
                text = await resp.text()
                raise OpenCodeError(f"GET /config/providers: {resp.status} {text[:200]}")
            return provider_names(await resp.json(content_type=None))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise OpenCodeUnavailable(f"GET /config/providers: {exc}") from exc
