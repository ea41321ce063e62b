"""Buttons, menus and modals of permission and question prompts.

Every component is a discord.py `DynamicItem` whose `custom_id` carries everything a
click needs (`kimaki:perm:<permission id>:<once|always|reject|reason>`,
`kimaki:q:<question id>:<index>`), registered once on the client
(`register_prompt_items`). So a click on a message posted before a restart still
reaches kimaki: nothing lives in memory between posting and clicking. What a click
*does* is decided by the client's `prompt_actions` (`kimaki.asks.Asks`); this module
only parses and builds components.

**Deny** rejects with one tap; **Deny with reason…** opens a modal for words that
reach the agent. The two modals (deny reason, "Other…" free text) are opened by a
click and answered within seconds; they are ordinary discord.py modals with `kimaki:`
custom ids. Nobody reaches these callbacks without passing `kimaki.bot.gate`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import discord

from kimaki.opencode.models import Question

OTHER = "other"
"""The select value of the "Other…" choice (option values are `o<index>`)."""
REASON = "reason"
"""The permission button that opens the "why?" form before denying."""
SELECT_OPTIONS_MAX = 25
LABEL_MAX = 100
DESCRIPTION_MAX = 100
QUESTIONS_PER_MESSAGE = 5  # one action row per question


class PromptActions(Protocol):
    """What a click, pick or modal submit does; implemented by `kimaki.asks.Asks`."""

    async def permission_clicked(
        self, interaction: discord.Interaction[Any], request_id: str, reply: str
    ) -> None: ...

    async def deny_submitted(
        self, interaction: discord.Interaction[Any], request_id: str, feedback: str
    ) -> None: ...

    async def question_picked(
        self, interaction: discord.Interaction[Any], request_id: str, index: int, values: list[str]
    ) -> None: ...

    async def other_submitted(
        self,
        interaction: discord.Interaction[Any],
        request_id: str,
        index: int,
        picked: list[str],
        text: str,
    ) -> None:
        """`picked` are the select's other values (`o<index>`), chosen beside "Other…"."""


def _actions(interaction: discord.Interaction[Any]) -> PromptActions | None:
    actions: PromptActions | None = getattr(interaction.client, "prompt_actions", None)
    return actions


async def _unavailable(interaction: discord.Interaction[Any]) -> None:
    await interaction.response.send_message(
        "⬦ kimaki is still starting; try again in a moment.", ephemeral=True
    )


# --- permission buttons

_PERMISSION_BUTTONS = (
    ("once", "Accept once", discord.ButtonStyle.success),
    ("always", "Accept always", discord.ButtonStyle.primary),
    ("reject", "Deny", discord.ButtonStyle.danger),
    (REASON, "Deny with reason…", discord.ButtonStyle.secondary),
)


class PermissionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kimaki:perm:(?P<id>[A-Za-z0-9_-]+):(?P<reply>once|always|reject|reason)",
):
    def __init__(self, request_id: str, reply: str) -> None:
        label, style = next((lb, st) for r, lb, st in _PERMISSION_BUTTONS if r == reply)
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"kimaki:perm:{request_id}:{reply}"
            )
        )
        self.request_id = request_id
        self.reply = reply

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PermissionButton:
        return cls(match["id"], match["reply"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        actions = _actions(interaction)
        if actions is None:
            await _unavailable(interaction)
            return
        await actions.permission_clicked(interaction, self.request_id, self.reply)


def permission_view(request_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for reply, _, _ in _PERMISSION_BUTTONS:
        view.add_item(PermissionButton(request_id, reply))
    return view


class DenyModal(discord.ui.Modal):
    """Deny, with an optional reason that reaches the model."""

    feedback: discord.ui.TextInput[DenyModal] = discord.ui.TextInput(
        label="Why? (optional, the agent reads it)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
        custom_id="feedback",
    )

    def __init__(self, request_id: str) -> None:
        super().__init__(title="Deny", timeout=600, custom_id=f"kimaki:deny:{request_id}")
        self.request_id = request_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        actions = _actions(interaction)
        if actions is None:
            await _unavailable(interaction)
            return
        await actions.deny_submitted(interaction, self.request_id, self.feedback.value.strip())


# --- question menus


class QuestionSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"kimaki:q:(?P<id>[A-Za-z0-9_-]+):(?P<index>[0-9]+)",
):
    def __init__(self, request_id: str, index: int, question: Question | None = None) -> None:
        custom_id = f"kimaki:q:{request_id}:{index}"
        if question is None:  # rebuilt from a click: the options come with the interaction
            select: discord.ui.Select[Any] = discord.ui.Select(custom_id=custom_id)
        else:
            options = question_options(question)
            select = discord.ui.Select(
                custom_id=custom_id,
                placeholder=(question.header or question.question or "Choose")[:150],
                options=options,
                min_values=1,
                max_values=len(options) if question.multiple else 1,
            )
        super().__init__(select)
        self.request_id = request_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> QuestionSelect:
        return cls(match["id"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        actions = _actions(interaction)
        if actions is None:
            await _unavailable(interaction)
            return
        values = list(self.item.values)
        await actions.question_picked(interaction, self.request_id, self.index, values)


def question_options(question: Question) -> list[discord.SelectOption]:
    room = SELECT_OPTIONS_MAX - (1 if question.custom else 0)
    options = [
        discord.SelectOption(
            label=(option.label or f"option {n + 1}")[:LABEL_MAX],
            value=f"o{n}",
            description=option.description[:DESCRIPTION_MAX] or None,
        )
        for n, option in enumerate(question.options[:room])
    ]
    if question.custom or not options:
        options.append(
            discord.SelectOption(label="Other…", value=OTHER, description="type your own answer")
        )
    return options


def chosen_labels(question: Question, values: Sequence[str]) -> list[str]:
    """The option labels a select's values stand for (without "Other…")."""
    labels = []
    for value in values:
        if value.startswith("o") and value[1:].isdigit():
            n = int(value[1:])
            if n < len(question.options):
                labels.append(question.options[n].label)
    return labels


def question_view(
    request_id: str, questions: Sequence[Question], answered: Sequence[bool]
) -> discord.ui.View | None:
    """Menus for the questions still unanswered (None when none is left)."""
    view = discord.ui.View(timeout=None)
    for index, question in enumerate(questions[:QUESTIONS_PER_MESSAGE]):
        if index < len(answered) and answered[index]:
            continue
        view.add_item(QuestionSelect(request_id, index, question))
    return view if view.children else None


class OtherModal(discord.ui.Modal):
    """Free text for a question's "Other…" choice."""

    answer: discord.ui.TextInput[OtherModal] = discord.ui.TextInput(
        label="Your answer", style=discord.TextStyle.paragraph, max_length=1000, custom_id="answer"
    )

    def __init__(self, request_id: str, index: int, picked: list[str]) -> None:
        super().__init__(
            title="Your answer", timeout=600, custom_id=f"kimaki:qo:{request_id}:{index}"
        )
        self.request_id = request_id
        self.index = index
        self.picked = picked

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        actions = _actions(interaction)
        if actions is None:
            await _unavailable(interaction)
            return
        await actions.other_submitted(
            interaction, self.request_id, self.index, self.picked, self.answer.value.strip()
        )


def register_prompt_items(client: discord.Client) -> None:
    """Make every prompt component clickable, including on messages from before a restart."""
    client.add_dynamic_items(PermissionButton, QuestionSelect)
