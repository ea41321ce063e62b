"""Where the shared OpenCode server listens, and how to authenticate to it.

Kept apart from the supervisor so that the REST client and the event stream depend
on an address, not on the process that provides it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    """Where the server listens and the credentials it wants."""

    base_url: str
    password: str = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP basic auth as OpenCode wants it (user `opencode`)."""
        token = base64.b64encode(f"opencode:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


# A fixed endpoint, or a callable that gives the live one (None while restarting).
EndpointSource = Endpoint | Callable[[], Endpoint | None]


def current(source: EndpointSource) -> Endpoint | None:
    """The endpoint to use right now, looked up per request to follow restarts."""
    return source() if callable(source) else source
