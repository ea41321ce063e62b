"""Turns: the one path every prompt takes to OpenCode, with kimaki's queue in front of it.

`Turns.submit(bridge, Prompt)` is that path (a person's message, a queued one, `kimaki
send`, `/new-session`); `busy` tells who runs a session's turn, `prompt` what a prompt
carries, `hint` the one instruction about `kimaki upload` added to the system text,
`marks` the reaction on a waiting message. Which model/agent/variant a prompt names is
`kimaki.prompt_options`' answer (`for_prompt`), asked once per prompt sent.
"""

from __future__ import annotations

from kimaki.prompt_options import PromptChoice

from .busy import Running
from .marks import QUEUED_EMOJI, Marks, NoMarks
from .prompt import INTERRUPT_PREFIX, Prompt, split_interrupt
from .service import Outcome, Turns, TurnSettings

__all__ = [
    "INTERRUPT_PREFIX",
    "QUEUED_EMOJI",
    "Marks",
    "NoMarks",
    "Outcome",
    "Prompt",
    "PromptChoice",
    "Running",
    "TurnSettings",
    "Turns",
    "split_interrupt",
]
