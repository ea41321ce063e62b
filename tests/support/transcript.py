"""What kimaki posted in a thread, line by line, in a form tests can compare.

Messages grow by edits and several parts share one, so tests compare lines, not
messages. A turn's footer carries figures that vary from run to run (its duration);
it reads as `FOOTER` here, so a test can still say where each footer is.
"""

from __future__ import annotations

from discord_twin import Twin
from discord_twin.state import Channel, Message

FOOTER = "<footer>"
FOOTER_PREFIX = "-# ⬦ "


def bot_lines(twin: Twin, thread: Channel, *, footers: bool = True) -> list[str]:
    """Every line the bot posted in `thread`, oldest first; footers as `FOOTER` (or left
    out)."""
    assert twin.seed is not None
    bot = twin.seed.bot.id
    lines = [
        line for m in twin.messages(thread) if m.author_id == bot for line in m.content.split("\n")
    ]
    shown = [FOOTER if line.startswith(FOOTER_PREFIX) else line for line in lines]
    return shown if footers else [line for line in shown if line != FOOTER]


def has_footer(message: Message) -> bool:
    """Whether a turn's footer is among the message's lines."""
    return any(line.startswith(FOOTER_PREFIX) for line in message.content.split("\n"))
