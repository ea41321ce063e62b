"""What a `kimaki send` message looks like on Discord, and how kimaki recognises one.

A send is a message the bot posts as itself, with the bot token (`kimaki send` on
any machine, or kimaki's own scheduler): the prompt as its content (or, past 2,000
characters, a preview with the whole prompt attached as `prompt.md`), the `--file`
attachments, and one embed saying where it came from, with the send's options as
fields. The running kimaki receives its own message over the gateway and runs it.

The marker is the embed (footer `kimaki send`) on a message whose author is the bot
itself. Nothing else kimaki posts has embeds (the outbox sends plain content, so
nothing the model writes can look like a send), and nobody but the token's holder can
post as the bot. The fields are read back by name; the outcome field is added by the
running kimaki when the turn ends (`outcome_embed`), which is how a `--wait` on
another machine learns it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import discord

from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.naming import prompt_thread_name
from kimaki.opencode.models import ModelRef

FOOTER = "kimaki send"
PROMPT_FILE = "prompt.md"
ANSWER_FILE = "answer.md"
PREVIEW_CHARS = 300
FIELD_LIMIT = 1024

_NAME, _AGENT, _MODEL, _NOTIFY, _WAIT, _TASK, _OUTCOME = (
    "thread name",
    "agent",
    "model",
    "notify only",
    "waiting",
    "task",
    "outcome",
)
ANSWERED_MARK = "✓ answered"
FAILED_MARK = "✗ "


@dataclass(frozen=True)
class SendRequest:
    """A send as its message carries it."""

    prompt: str
    """The prompt, or for a long one the preview in the content (see `long_prompt`)."""
    host: str
    name: str | None = None
    agent: str | None = None
    model: str | None = None
    """`provider/model`."""
    notify_only: bool = False
    wait: bool = False
    task_id: int | None = None
    long_prompt: bool = False
    """The whole prompt is the attached `prompt.md`."""

    @property
    def thread_name(self) -> str:
        return prompt_thread_name(self.name or self.prompt)

    @property
    def model_ref(self) -> ModelRef | None:
        if not self.model:
            return None
        try:
            return ModelRef.parse(self.model)
        except ValueError:
            return None


def model_error(model: str) -> str | None:
    """Why `--model` is unusable (None when it is `provider/model`)."""
    provider, sep, name = model.partition("/")
    if not sep or not provider.strip() or not name.strip():
        return f"--model takes provider/model (e.g. anthropic/claude-sonnet-4), got {model!r}"
    return None


@dataclass(frozen=True)
class SendMessage:
    """What `build` makes: the message's parts, ready for `Messageable.send`."""

    content: str
    embed: discord.Embed
    files: list[discord.File]


def build(request: SendRequest, files: list[discord.File] | None = None) -> SendMessage:
    """The message for `request`; `files` are the `--file` attachments."""
    attached = list(files or [])
    prompt = request.prompt
    content = prompt
    if len(prompt) > MESSAGE_LIMIT:
        preview = prompt[:PREVIEW_CHARS].rstrip()
        size = f"{len(prompt):,} characters"
        content = f"{preview}…\n-# the whole prompt ({size}) is in {PROMPT_FILE}"
        attached.insert(0, discord.File(io.BytesIO(prompt.encode()), filename=PROMPT_FILE))
    return SendMessage(content, _embed(request), attached)


def _embed(request: SendRequest) -> discord.Embed:
    origin = f"scheduled task #{request.task_id}" if request.task_id else "`kimaki send`"
    embed = discord.Embed(description=f"from {origin} on **{request.host}**")
    for name, value in (
        (_NAME, request.name),
        (_AGENT, request.agent),
        (_MODEL, request.model),
        (_NOTIFY, "yes" if request.notify_only else None),
        (_WAIT, "yes" if request.wait else None),
        (_TASK, f"#{request.task_id}" if request.task_id else None),
    ):
        if value:
            embed.add_field(name=name, value=value[:FIELD_LIMIT], inline=True)
    embed.set_footer(text=FOOTER)
    return embed


def send_embed(message: discord.Message) -> discord.Embed | None:
    """The send marker's embed, if `message` carries one (the author is checked elsewhere)."""
    if message.webhook_id is not None or message.interaction_metadata is not None:
        return None
    for embed in message.embeds:
        if embed.footer.text == FOOTER:
            return embed
    return None


def parse(message: discord.Message) -> SendRequest | None:
    """The send `message` carries, or None if it is no send message."""
    embed = send_embed(message)
    if embed is None:
        return None
    fields = {field.name: field.value or "" for field in embed.fields}
    task = fields.get(_TASK, "").lstrip("#")
    host = (embed.description or "").rsplit("**", 2)
    return SendRequest(
        prompt=message.content,
        host=host[1] if len(host) == 3 else "?",
        name=fields.get(_NAME) or None,
        agent=fields.get(_AGENT) or None,
        model=fields.get(_MODEL) or None,
        notify_only=fields.get(_NOTIFY) == "yes",
        wait=fields.get(_WAIT) == "yes",
        task_id=int(task) if task.isdigit() else None,
        long_prompt=any(a.filename == PROMPT_FILE for a in message.attachments),
    )


async def full_prompt(message: discord.Message, request: SendRequest) -> SendRequest:
    """`request` with the whole prompt (read from `prompt.md` when it is attached)."""
    if not request.long_prompt:
        return request
    attachment = next(a for a in message.attachments if a.filename == PROMPT_FILE)
    data = await attachment.read()
    return replace(request, prompt=data.decode(errors="replace"))


def agent_files(message: discord.Message) -> list[discord.Attachment]:
    """The attachments that are files for the agent (not the prompt itself)."""
    return [a for a in message.attachments if a.filename != PROMPT_FILE]


# --- the outcome, shown on the starter message


def outcome_embed(embed: discord.Embed, outcome: str) -> discord.Embed:
    """The send's embed with its outcome field set (replacing an earlier one)."""
    fresh = discord.Embed.from_dict(embed.to_dict())
    for index, field in enumerate(fresh.fields):
        if field.name == _OUTCOME:
            fresh.remove_field(index)
            break
    fresh.add_field(name=_OUTCOME, value=outcome[:FIELD_LIMIT], inline=False)
    return fresh


def outcome_of(message: discord.Message) -> str | None:
    """The outcome the running kimaki wrote on a send message (None while it runs)."""
    embed = send_embed(message)
    if embed is None:
        return None
    return next((f.value for f in embed.fields if f.name == _OUTCOME and f.value), None)


def failure_line(reason: str) -> str:
    return f"{FAILED_MARK}{reason}"
