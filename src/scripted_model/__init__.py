"""A scripted OpenAI-compatible chat model, so tests can drive the real OpenCode predictably.

>>> model = ScriptedModel()
>>> await model.start()
>>> model.add_rule("list files", [bash("ls"), text("Here are the files.")], title="Listing files")

Also for tests: ``scripted-vision`` (images and PDFs, priced, a 200k window) beside the default
``scripted-1``; ``RecordedRequest.attachments`` (the images and files a request carried);
``Step.with_usage`` (token counts OpenCode turns into tokens and cost); ``faults`` (401, 429,
5xx bursts, context overflow, a stream that breaks); ``RecordedRequest.paused`` (a held step has
reached its gate); ``ScriptedModel.overlaps`` (two turns of one session streaming at once, told
apart by OpenCode's ``x-session-id`` header).
"""

from __future__ import annotations

from .attachments import Attachment
from .config import VISION_CONTEXT, VISION_COST, VISION_MODEL_ID, opencode_provider_config
from .faults import auth_error, broken_stream, context_overflow, rate_limited, server_errors
from .rules import SUMMARY_TEXT, TITLE_PREFIX, Rule, Selection, default_title, echo_reply
from .server import MODEL_ID, SESSION_HEADER, Overlap, RecordedRequest, ScriptedModel
from .steps import (
    BrokenStream,
    HttpFault,
    Step,
    ToolCall,
    Usage,
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
    "SESSION_HEADER",
    "SUMMARY_TEXT",
    "TITLE_PREFIX",
    "VISION_CONTEXT",
    "VISION_COST",
    "VISION_MODEL_ID",
    "Attachment",
    "BrokenStream",
    "HttpFault",
    "Overlap",
    "RecordedRequest",
    "Rule",
    "ScriptedModel",
    "Selection",
    "Step",
    "ToolCall",
    "Usage",
    "auth_error",
    "bash",
    "broken_stream",
    "context_overflow",
    "default_title",
    "echo_reply",
    "edit",
    "http_error",
    "opencode_provider_config",
    "rate_limited",
    "read",
    "reasoning",
    "server_errors",
    "text",
    "tool",
    "tool_call",
    "tools",
    "write",
]
