"""A held prompt that runs an OpenCode command (`/<name>-cmd`) instead of a prompt.

OpenCode's command endpoint fills the command's template and runs it as a turn, and
answers only when that turn ends; so it runs in the background, and the sender waits
only until the session is busy with it, so that nothing else is sent into its turn.
A command carries no kimaki tag (the endpoint takes no text part), so it is sent at
most once: a failure is said in the thread, not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from kimaki.bridge import ThreadBridge
from kimaki.opencode.errors import OpenCodeError
from kimaki.prompt_options import PromptChoice
from kimaki.store import QueuedPrompt, synthetic_key
from kimaki.util import background_task

from .compose import notice

log = logging.getLogger(__name__)

BUSY_WAIT = 15.0
"""How long the sender waits for the command's turn to show as busy."""


async def run_command(
    bridge: ThreadBridge,
    row: QueuedPrompt,
    command: str,
    choice: PromptChoice,
    *,
    on_end: Callable[[], None],
) -> None:
    """Start `command` with the row's words as its arguments; return once it runs."""
    record = bridge.record
    running = background_task.start(
        _turn(bridge, row, command, choice, on_end),
        name=f"command-{command}-{record.thread_id}",
    )
    bridge.set_busy(True)
    bridge.wake()
    deadline = time.monotonic() + BUSY_WAIT
    opencode = bridge.ctx.opencode
    with contextlib.suppress(OpenCodeError):
        while not running.done() and time.monotonic() < deadline:
            current = (await opencode.status(str(record.directory))).get(record.session_id)
            if current is not None and current.is_busy:
                return
            await asyncio.sleep(0.1)


async def _turn(
    bridge: ThreadBridge,
    row: QueuedPrompt,
    command: str,
    choice: PromptChoice,
    on_end: Callable[[], None],
) -> None:
    record = bridge.record
    try:
        await bridge.ctx.opencode.command(
            record.session_id,
            str(record.directory),
            command,
            row.text,
            agent=choice.agent,
            model=choice.model,
            variant=choice.variant,
        )
    except OpenCodeError as exc:
        log.warning("thread %s: /%s failed: %s", record.thread_id, command, exc)
        notice(
            bridge,
            synthetic_key("command-failed", row.source),
            f"OpenCode's /{command} failed: {exc}",
            notify=True,
        )
    bridge.wake()
    on_end()
