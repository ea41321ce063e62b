"""/run-shell-command, and messages starting with `!`: a command in the project's directory.

The output comes back in a code block, or as an attachment when long, with the exit
code (or the time limit that stopped it). Nothing reaches the agent. Who may run one is
the gate's decision, as for every command and message.
"""

from __future__ import annotations

import io
from pathlib import Path

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    Answer,
    AnyCommand,
    CommandGroup,
    answer_later,
    thread_of,
)
from kimaki.bot.commands.kit import Kit, need_project
from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.shell import ShellResult, ShellRunner
from kimaki.turns import split_interrupt

PREFIX = "!"
FENCE = "```"
BROKEN_FENCE = "`\u200b``"
"""Backticks in the output must not close the code block around it."""

group: CommandGroup[Kit] = CommandGroup()


def shell_words(content: str) -> str | None:
    """The command of a `!command` message (None for any other message). `!now …` is not
    one: it is a prompt that interrupts the running turn (`kimaki.turns`); a command
    called `now` runs with /run-shell-command."""
    text = content.strip()
    if not text.startswith(PREFIX) or split_interrupt(text)[0]:
        return None
    command = text[len(PREFIX) :].strip()
    return command or None


@group.command
def run_shell_command(kit: Kit) -> AnyCommand:
    @app_commands.command(
        name="run-shell-command", description="Run a shell command in this project's directory"
    )
    @app_commands.describe(command="runs with bash, here; the agent does not see it")
    async def run_shell(interaction: discord.Interaction, command: str) -> None:
        project = await need_project(kit, interaction, "run-shell-command")
        if project is None:
            return
        record = thread_of(kit.store, interaction)
        directory = record.directory if record is not None else project.directory
        work = run_and_show(kit.shell, command, directory)
        await answer_later(interaction, work, ephemeral=False)

    return run_shell


async def run_and_show(runner: ShellRunner, command: str, directory: Path) -> str | Answer:
    if not command.strip():
        return "give a command"
    if _missing(directory):
        return f"the project's directory `{directory}` no longer exists"
    return shown(await runner.run(command, directory))


def _missing(directory: Path) -> bool:
    return not directory.is_dir()


def shown(result: ShellResult) -> Answer:
    """One line saying how it ended, the output in a code block, or attached when long."""
    head = f"`{_one_line(result.command)}` {_ending(result)}"
    output = result.output
    if result.truncated:
        head += f" (output cut to its first {len(output.encode()):,} bytes)"
    if not output.strip():
        return Answer(f"{head}, no output")
    body = output.rstrip().replace(FENCE, BROKEN_FENCE)
    block = f"{head}\n{FENCE}\n{body}\n{FENCE}"
    if len(f"⬦ {block}") <= MESSAGE_LIMIT:
        return Answer(block)
    attachment = discord.File(io.BytesIO(output.encode()), filename="output.txt")
    return Answer(f"{head}; the output is attached", files=[attachment])


def _ending(result: ShellResult) -> str:
    if result.timed_out:
        return f"was stopped after {result.time_limit:g} s (the time limit)"
    if result.exit_code == 0:
        return "exited 0"
    return f"failed with exit code {result.exit_code}"


def _one_line(command: str, limit: int = 200) -> str:
    line = " ".join(command.split()).replace("`", "'")
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def answer_message(runner: ShellRunner, message: discord.Message, directory: Path) -> None:
    """Run a `!command` message and reply to it with what it printed."""
    command = shell_words(message.content) or ""
    async with message.channel.typing():
        answer = await run_and_show(runner, command, directory)
    if isinstance(answer, str):
        answer = Answer(answer)
    await message.reply(
        f"⬦ {answer.text}"[:MESSAGE_LIMIT],
        files=list(answer.files),
        mention_author=False,
        silent=True,
    )
