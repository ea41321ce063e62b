"""A scripted OpenAI-compatible chat model, so tests can drive the real OpenCode predictably.

>>> model = ScriptedModel()
>>> await model.start()
>>> model.add_rule("list files", [bash("ls"), text("Here are the files.")], title="Listing files")
"""

from __future__ import annotations

from .config import opencode_provider_config
from .rules import TITLE_PREFIX, Rule, Selection, default_title, echo_reply
from .server import MODEL_ID, RecordedRequest, ScriptedModel
from .steps import (
    Step,
    ToolCall,
    bash,
    edit,
    http_error,
    read,
    reasoning,
    text,
    tool,
    tool_call,
    tools,
    write,
)

__all__ = [
    "MODEL_ID",
    "TITLE_PREFIX",
    "RecordedRequest",
    "Rule",
    "ScriptedModel",
    "Selection",
    "Step",
    "ToolCall",
    "bash",
    "default_title",
    "echo_reply",
    "edit",
    "http_error",
    "opencode_provider_config",
    "read",
    "reasoning",
    "text",
    "tool",
    "tool_call",
    "tools",
    "write",
]
