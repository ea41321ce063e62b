"""The twin's fixtures. pytest only honours `pytest_plugins` in the rootdir conftest, so they are
imported by name here."""

from __future__ import annotations

from discord_twin.pytest_plugin import twin, twin_client

__all__ = ["twin", "twin_client"]
