"""The control API: `Twin` in process, `ControlHttp` (`/_twin/…`) for other processes."""

from __future__ import annotations

from .actor import Actor, mention
from .handles import InteractionHandle
from .twin import Seed, Twin, free_port

__all__ = ["Actor", "InteractionHandle", "Seed", "Twin", "free_port", "mention"]
