"""discord_twin: a local Discord-compatible server (REST v10 + Gateway) for tests and demos.

Start a `Twin`, seed it, point discord.py at it with `point_discord_py_at`, then act as users
and wait for what the bot does through the control API.
"""

from __future__ import annotations

from .control import Actor, InteractionHandle, Seed, Twin, mention
from .discordpy import make_test_friendly, point_discord_py_at, test_client_options
from .errors import TwinError
from .faults import HTTPFault
from .render import render_channel

__all__ = [
    "Actor",
    "HTTPFault",
    "InteractionHandle",
    "Seed",
    "Twin",
    "TwinError",
    "make_test_friendly",
    "mention",
    "point_discord_py_at",
    "render_channel",
    "test_client_options",
]
