"""Writes: each one validates like Discord, mutates the store, logs an event and dispatches the
gateway event. REST handlers and the control API (users acting) both go through here, so a
message a test user sends and one the bot sends follow the same rules.

One module per resource family; `Ops` puts them together behind one object.
"""

from __future__ import annotations

from .base import INTERACTION_DEADLINE_S, UPLOAD_LIMIT, NewFile, OpsBase
from .commands import CommandOps
from .guilds import GuildOps
from .interactions import InteractionOps


class Ops(GuildOps, CommandOps, InteractionOps):
    """Every write the twin knows (guilds, channels, messages, commands, interactions)."""


__all__ = ["INTERACTION_DEADLINE_S", "UPLOAD_LIMIT", "NewFile", "Ops", "OpsBase"]
