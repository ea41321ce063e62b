"""A held prompt that runs an OpenCode command (`/<name>-cmd`) instead of a prompt.

OpenCode's command endpoint fills the command's template and runs it as a turn, and
answers only when that turn ends; so it runs in the background, and the sender waits
only until the session is busy with it, so that nothing else is sent into its turn.
A command carries no kimaki tag (the endpoint takes no text part), so it is sent at
most once: a failure is said in the thread, not retried. A connection cut while the
call waits is no failure by itself: OpenCode runs a command it has received to the
end whatever happens to the call, so kimaki looks whether the turn began before it
says anything (and says nothing when its own stop cut the call).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from kimaki.bridge import ThreadBridge
from kimaki.opencode.errors import OpenCodeError, OpenCodeStopped, OpenCodeUnavailable
from kimaki.prompt_options import PromptChoice
from kimaki.store import QueuedPrompt, synthetic_key
from kimaki.store.db import now_ms
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
    sent_ms = now_ms()
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
    except OpenCodeStopped:
        log.info(
            "thread %s: kimaki stopped while /%s ran; OpenCode runs on", record.thread_id, command
        )
        return
    except OpenCodeUnavailable as exc:
        if await _began(bridge, sent_ms):
            log.warning(
                "thread %s: the call running /%s was cut (%s); OpenCode runs it on",
                record.thread_id,
                command,
                exc,
            )
        else:
            _failed(bridge, row, command, exc)
    except OpenCodeError as exc:
        _failed(bridge, row, command, exc)
    bridge.wake()
    on_end()


def _failed(bridge: ThreadBridge, row: QueuedPrompt, command: str, exc: OpenCodeError) -> None:
    log.warning("thread %s: /%s failed: %s", bridge.record.thread_id, command, exc)
    notice(
        bridge,
        synthetic_key("command-failed", row.source),
        f"OpenCode's /{command} failed: {exc}",
        notify=True,
    )


async def _began(bridge: ThreadBridge, sent_ms: int) -> bool:
    """Whether OpenCode took the command whose call was cut: its session runs a turn, or
    holds a prompt newer than the call (a turn that already ended)."""
    record = bridge.record
    opencode, directory = bridge.ctx.opencode, str(record.directory)
    deadline = time.monotonic() + BUSY_WAIT
    while time.monotonic() < deadline:
        with contextlib.suppress(OpenCodeError):
            current = (await opencode.status(directory)).get(record.session_id)
            if current is not None and current.is_busy:
                return True
            page = await opencode.messages(record.session_id, directory, limit=5)
            if any(m.info.role == "user" and m.info.created >= sent_ms for m in page.messages):
                return True
        await asyncio.sleep(0.5)
    return False
