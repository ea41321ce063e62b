"""kimaki has no voice feature, so discord.py's warnings about missing voice libraries
(PyNaCl, davey), logged when a client is made, are noise at every start."""

from __future__ import annotations

from discord.voice_client import VoiceClient


def no_voice_warnings() -> None:
    """discord.py warns once per process and then clears these flags; clear them first."""
    VoiceClient.warn_nacl = False
    VoiceClient.warn_dave = False
