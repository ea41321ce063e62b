"""How kimaki names threads, in one place: OpenCode's placeholder title, the `Sync: `
prefix, and Discord's 100-character cut."""

from __future__ import annotations

from kimaki.discord_limits import NAME_LIMIT

SYNC_PREFIX = "Sync: "
"""Threads of sessions started outside Discord say where they came from."""

PLACEHOLDER_TITLE = "New session - "
"""How OpenCode titles a session before the model names it (followed by a timestamp)."""


def is_placeholder_title(title: str) -> bool:
    """No title yet: empty, or OpenCode's placeholder."""
    stripped = title.strip()
    return not stripped or stripped.startswith(PLACEHOLDER_TITLE)


def cut_name(text: str) -> str:
    """`text` as a Discord name (thread, choice): stripped and cut to 100 characters."""
    return text.strip()[:NAME_LIMIT]


def prompt_thread_name(prompt: str) -> str:
    """A thread started by a message is named after its first non-blank line."""
    first = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    return cut_name(first or "session")


def session_thread_name(title: str, *, synced: bool) -> str:
    """The name for a session's thread: a sync thread keeps its prefix so people see
    where it came from."""
    return cut_name(SYNC_PREFIX + title.strip()) if synced else cut_name(title)
