"""What an admitted message does: in a project channel it starts a session; in a bound
thread it answers a waiting permission, or prompts the thread's session. A message
starting with `!` (but not `!now `, which interrupts the running turn) is a shell command
for the person (`bot/commands/shell.py`), not a prompt. Editing or deleting a message
kimaki still holds changes or drops what will be sent."""

from __future__ import annotations

import discord

from kimaki.asks import Asks
from kimaki.bot.commands.shell import answer_message, shell_words
from kimaki.sessions import Sessions
from kimaki.shell import ShellRunner
from kimaki.store import ChannelID, DiscordMessageID, Store, ThreadID
from kimaki.turns import Turns, split_interrupt


class MessageRoutes:
    def __init__(
        self, store: Store, sessions: Sessions, asks: Asks, turns: Turns, shell: ShellRunner
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.asks = asks
        self.turns = turns
        self.shell = shell

    async def in_project(self, message: discord.Message) -> None:
        project = self.store.projects.get(ChannelID(message.channel.id))
        if project is None:
            return
        if shell_words(message.content) is not None:
            await answer_message(self.shell, message, project.directory)
            return
        await self.sessions.start_from_message(message, project)

    async def in_thread(self, message: discord.Message) -> None:
        record = self.store.threads.get(ThreadID(message.channel.id))
        if record is None or record.deleted:
            return
        if shell_words(message.content) is not None:
            await answer_message(self.shell, message, record.directory)
            return
        words = message.content.strip()
        who = message.author.display_name
        if words and await self.asks.deny_with_message(record.thread_id, who, words):
            return  # the words went to the agent as the reason for the denial
        await self.sessions.follow_up(message, record)

    async def edited(self, message: discord.Message) -> None:
        _, words = split_interrupt(message.content)
        self.turns.edited(str(message.id), words.strip())

    async def deleted(self, message_id: DiscordMessageID) -> None:
        await self.turns.deleted(str(message_id))
