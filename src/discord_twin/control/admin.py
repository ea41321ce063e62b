"""What a server admin or the developer portal does while a bot runs: switch an application's
privileged intents or public flag, reset its token, kick a member (or remove a bot), delete a
channel or thread."""

from __future__ import annotations

import secrets

from ..gateway import AUTHENTICATION_FAILED, GatewayHub
from ..ops import Ops
from ..state import Application, Channel, Guild, Member, Store, User


class AdminControls:
    store: Store
    ops: Ops
    gateway: GatewayHub

    def update_application(
        self,
        app: Application,
        *,
        message_content: bool | None = None,
        guild_members: bool | None = None,
        presences: bool | None = None,
        bot_public: bool | None = None,
        team_member_ids: list[int] | None = None,
    ) -> Application:
        """Flip portal switches. Like Discord, live sessions keep their intents; the next
        IDENTIFY asking for a privileged intent that is now off is closed with 4014."""
        if message_content is not None:
            app.message_content = message_content
        if guild_members is not None:
            app.guild_members = guild_members
        if presences is not None:
            app.presences = presences
        if bot_public is not None:
            app.bot_public = bot_public
        if team_member_ids is not None:
            app.team_member_ids = list(team_member_ids)
        return app

    def reset_token(self, app: Application) -> str:
        """A new token; the old one gets 401 on REST, and the app's live gateway connections
        close with 4004 (authentication failed), which discord.py treats as fatal."""
        app.token = f"{app.bot_user_id}.twin.{secrets.token_urlsafe(16)}"
        self.gateway.end_app_sessions(app.id, AUTHENTICATION_FAILED)
        return app.token

    def remove_member(self, guild: Guild, user: User) -> Member:
        """Kick `user`; for a bot this is "removed from the server" (GUILD_DELETE to it)."""
        return self.ops.remove_member(guild, user)

    def delete_channel(self, channel: Channel) -> Channel:
        """Delete a channel (CHANNEL_DELETE) or a thread (THREAD_DELETE); later REST calls on it
        get 404 Unknown Channel (10003)."""
        return self.ops.delete_channel(channel)
