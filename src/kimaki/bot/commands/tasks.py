"""/tasks: this kimaki's scheduled sends, with Run now and Delete buttons.

The buttons are `DynamicItem`s whose custom id carries the task and the action
(`kimaki:task:<id>:run|delete`), so they work on a /tasks answer from before a
restart. They act through the store, as `kimaki task run|delete` do, and wake the
scheduler. The gate stands in front of the command and the buttons alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from kimaki.bot.commands.base import AnyCommand, CommandGroup, reply
from kimaki.discord_limits import MESSAGE_LIMIT, ROWS_LIMIT
from kimaki.store import Store, TaskRecord
from kimaki.tasks.schedule import describe


@dataclass(frozen=True)
class TasksDeps:
    store: Store
    poke: Callable[[], None]
    """Wake the scheduler (a Run now applies at once)."""


group: CommandGroup[TasksDeps] = CommandGroup()


@group.command
def tasks_command(deps: TasksDeps) -> AnyCommand:
    @app_commands.command(name="tasks", description="Scheduled sends: run one now or delete it")
    async def tasks(interaction: discord.Interaction) -> None:
        records = deps.store.tasks.all()
        if not records:
            await reply(interaction, "no scheduled sends (kimaki send --send-at WHEN …)")
            return
        await interaction.response.send_message(
            task_listing(records), view=task_view(records), ephemeral=True
        )

    return tasks


def task_line(task: TaskRecord) -> str:
    words = " ".join(task.spec.prompt.split())[:80]
    return (
        f"**#{task.id}** `{task.spec.schedule}` → <#{task.spec.channel_id}> · next "
        f"{describe(task.next_run)} · last: {task.last_outcome or '—'}\n> {words}"
    )


def task_listing(records: list[TaskRecord]) -> str:
    lines = ["⬦ scheduled sends:"]
    for task in records:
        lines.append(task_line(task))
    if len(records) > ROWS_LIMIT:
        lines.append(f"-# buttons for the first {ROWS_LIMIT}; the others: kimaki task run|delete")
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def task_view(records: list[TaskRecord]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row, task in enumerate(records[:ROWS_LIMIT]):
        view.add_item(TaskButton(task.id, "run", row=row))
        view.add_item(TaskButton(task.id, "delete", row=row))
    return view


_LABELS = {
    "run": ("Run now", discord.ButtonStyle.primary),
    "delete": ("Delete", discord.ButtonStyle.danger),
}


class TaskButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kimaki:task:(?P<id>[0-9]+):(?P<action>run|delete)",
):
    def __init__(self, task_id: int, action: str, *, row: int | None = None) -> None:
        label, style = _LABELS[action]
        super().__init__(
            discord.ui.Button(
                label=f"{label} #{task_id}",
                style=style,
                custom_id=f"kimaki:task:{task_id}:{action}",
                row=row,
            )
        )
        self.task_id = task_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> TaskButton:
        return cls(int(match["id"]), match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        deps: TasksDeps | None = getattr(interaction.client, "tasks_deps", None)
        if deps is None:
            await reply(interaction, "kimaki is still starting; try again in a moment")
            return
        task = deps.store.tasks.get(self.task_id)
        if task is None:
            await reply(interaction, f"task #{self.task_id} no longer exists")
            return
        who = interaction.user.display_name
        if self.action == "delete":
            deps.store.tasks.remove(task.id)
            await reply(interaction, f"task #{task.id} deleted by {who}", ephemeral=False)
            return
        deps.store.tasks.request_run(task.id)
        deps.poke()
        await reply(interaction, f"task #{task.id} runs now (asked by {who})", ephemeral=False)


def register_task_items(client: discord.Client, deps: TasksDeps) -> None:
    """Make the buttons clickable (also on /tasks answers from before a restart)."""
    client.tasks_deps = deps  # type: ignore[attr-defined]
    client.add_dynamic_items(TaskButton)
