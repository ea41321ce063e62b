"""Discord's limits, written once (the API rejects anything past them)."""

from __future__ import annotations

MESSAGE_LIMIT = 2000
"""Message content, in code points (Discord counts `len(str)`; discord-api-docs#1315)."""

NAME_LIMIT = 100
"""Channel and thread names; also slash-command choice names, select option labels and
descriptions."""

PLACEHOLDER_LIMIT = 150
"""A select menu's placeholder."""

CHOICES_LIMIT = 25
"""Autocomplete choices per answer, and options per select menu."""

NONCE_LIMIT = 25
"""A message nonce, in characters."""

ROWS_LIMIT = 5
"""Action rows per message."""

UPLOAD_LIMIT = 10 * 1024 * 1024
"""Bytes of files in one message in a server without boosts (discord.py's default too)."""

FILES_PER_MESSAGE = 10
"""Attachments in one message."""

UNKNOWN_CHANNEL = 10003
"""The JSON error code of a 404 for a deleted channel or thread: the only answer (with a
delete event) that means a thread is gone. A 403 means no access *now*."""
