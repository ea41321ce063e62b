"""Attachments in: what a Discord message's files become in a prompt to the agent.

`saving.save` keeps an attachment's bytes under the data dir (per session, private) when
its message arrives, and says what it is (`kinds`); `parts.build` turns saved files into
prompt parts for the session's model when the prompt is sent; `images` scales images
down to what models accept. Nothing here talks to Discord: the caller downloads.
"""

from __future__ import annotations

from .kinds import INLINE_TEXT_LIMIT, Kind, classify
from .parts import Built, build
from .saving import Saved, save

__all__ = ["INLINE_TEXT_LIMIT", "Built", "Kind", "Saved", "build", "classify", "save"]
