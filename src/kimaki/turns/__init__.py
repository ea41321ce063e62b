"""Turns: the one path every prompt takes to OpenCode, with kimaki's queue in front of it.

`Turns.submit(bridge, Prompt)` is that path (a person's message, a queued one, `kimaki
send`, `/new-session`); `busy` tells who runs a session's turn, `prompt` what a prompt
carries, `hint` the one instruction about `kimaki upload` added to the system text,
`marks` the reaction on a waiting message, `options` the thread's model/agent choice.
"""

from __future__ import annotations

from .busy import Running
from .marks import QUEUED_EMOJI, Marks, NoMarks
from .options import NoOverride, PromptChoice, PromptOptions
from .prompt import INTERRUPT_PREFIX, Prompt, split_interrupt
from .service import Outcome, Turns, TurnSettings

__all__ = [
    "INTERRUPT_PREFIX",
    "QUEUED_EMOJI",
    "Marks",
    "NoMarks",
    "NoOverride",
    "Outcome",
    "Prompt",
    "PromptChoice",
    "PromptOptions",
    "Running",
    "TurnSettings",
    "Turns",
    "split_interrupt",
]
