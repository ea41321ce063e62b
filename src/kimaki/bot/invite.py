"""The invite link a user opens to add the bot to a server, with exactly the permissions it uses."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def needed_permissions() -> discord.Permissions:
    return discord.Permissions(
        view_channel=True,
        manage_channels=True,  # project channels and the Kimaki category
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        manage_threads=True,  # rename threads to the session's title
        read_message_history=True,
        embed_links=True,
        attach_files=True,
        add_reactions=True,
    )


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=needed_permissions(), scopes=list(SCOPES)
    )
