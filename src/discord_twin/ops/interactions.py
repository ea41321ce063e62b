"""Interactions: creating them for a user, the callback (types 1, 4–9), followups and the
interaction webhook's messages."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .. import errors as E
from ..errors import TwinError, invalid_form, not_found
from ..payloads import channel_payload, member_payload, user_payload
from ..state import EPHEMERAL, LOADING, Channel, Interaction, Message
from .base import NewFile
from .messages import MessageOps

INTERACTION_TOKEN_TTL_S = 15 * 60.0


class InteractionOps(MessageOps):
    def create_interaction(
        self,
        app_id: int,
        type: int,
        user_id: int,
        channel: Channel,
        data: dict[str, Any],
        *,
        message: Message | None = None,
    ) -> Interaction:
        interaction = Interaction(
            id=self.store.ids.next(),
            token=f"twin-{secrets.token_urlsafe(24)}",
            type=type,
            application_id=app_id,
            user_id=user_id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            data=data,
            message_id=message.id if message else None,
        )
        self.store.interactions[interaction.id] = interaction
        self.hub.dispatch("INTERACTION_CREATE", self.interaction_json(interaction), app_id=app_id)
        self.events.append("interaction_create", interaction)
        return interaction

    def interaction_json(self, interaction: Interaction) -> dict[str, Any]:
        channel = self.store.channels[interaction.channel_id]
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(interaction.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "channel_id": str(channel.id),
            "channel": channel_payload(channel),
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": self.upload_limit,
            "context": 0 if interaction.guild_id else 1,
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
        }
        guild = self.store.guilds.get(interaction.guild_id) if interaction.guild_id else None
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            bot_id = self.store.applications[interaction.application_id].bot_user_id
            payload["app_permissions"] = str(self.store.permissions(guild, bot_id))
            member = guild.members.get(interaction.user_id)
            if member is not None:
                payload["member"] = member_payload(self.store, member, with_permissions=True)
        else:
            payload["user"] = user_payload(self.store.users[interaction.user_id])
            payload["app_permissions"] = "0"
        if interaction.message_id is not None:
            payload["message"] = self.message_json(self.store.messages[interaction.message_id])
        return payload

    def interaction_by_token(self, app_id: int, token: str) -> Interaction:
        for interaction in self.store.interactions.values():
            if interaction.token == token and interaction.application_id == app_id:
                if time.time() - interaction.created_at > INTERACTION_TOKEN_TTL_S:
                    break
                return interaction
        raise not_found(E.UNKNOWN_WEBHOOK, "Webhook")

    def interaction_callback(
        self, interaction_id: int, token: str, body: dict[str, Any], files: list[NewFile]
    ) -> dict[str, Any]:
        """Answer an interaction (types 4–9); returns the `with_response` body."""
        interaction = self.store.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise not_found(E.UNKNOWN_INTERACTION, "interaction")
        if interaction.response_type is not None:
            raise TwinError(
                400, E.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        if time.time() - interaction.created_at > self.interaction_deadline:
            raise not_found(E.UNKNOWN_INTERACTION, "interaction")
        rtype = int(body.get("type", 0))
        data = dict(body.get("data") or {})
        if rtype not in (1, 4, 5, 6, 7, 8, 9):
            raise invalid_form(
                "type", "BASE_TYPE_CHOICES", "Value must be one of (1, 4, 5, 6, 7, 8, 9)."
            )
        message: Message | None = None
        if rtype in (4, 5):
            message = self._interaction_message(interaction, data, files, loading=rtype == 5)
            interaction.original_message_id = message.id
        elif rtype == 7:
            if interaction.message_id is None:
                raise TwinError(400, 40004, "Interaction has no message to update")
            message = self.store.messages[interaction.message_id]
            self.edit_message(message, data, files)
            interaction.original_message_id = message.id
        elif rtype == 6 and interaction.message_id is not None:
            interaction.original_message_id = interaction.message_id
        interaction.response_type = rtype
        interaction.response_data = data
        self.events.append("interaction_response", interaction)
        response: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = str(message.id)
            response["resource"] = {"type": rtype, "message": self.message_json(message)}
        else:
            response["resource"] = {"type": rtype}
        return response

    def _interaction_message(
        self,
        interaction: Interaction,
        data: dict[str, Any],
        files: list[NewFile],
        *,
        loading: bool = False,
    ) -> Message:
        channel = self.channel(interaction.channel_id)
        app = self.store.applications[interaction.application_id]
        flags = int(data.get("flags") or 0)
        ephemeral = bool(flags & EPHEMERAL)
        message, _ = self.post_message(
            channel,
            app.bot_user_id,
            content=data.get("content"),
            embeds=data.get("embeds"),
            components=data.get("components"),
            files=files,
            flags=(flags | LOADING) if loading else flags,
            allowed_mentions=data.get("allowed_mentions"),
            tts=bool(data.get("tts", False)),
            type=20 if interaction.type == 2 else 0,
            webhook_id=app.id,
            application_id=app.id,
            interaction_id=interaction.id,
            ephemeral_for=interaction.user_id if ephemeral else None,
            allow_empty=loading,
        )
        return message

    def followup(
        self, interaction: Interaction, data: dict[str, Any], files: list[NewFile]
    ) -> Message:
        if interaction.response_type is None:
            raise not_found(E.UNKNOWN_WEBHOOK, "Webhook")
        message = self._interaction_message(interaction, data, files)
        interaction.followup_ids.append(message.id)
        self.events.append("interaction_followup", (interaction, message))
        return message

    def webhook_message(self, interaction: Interaction, message_ref: str) -> Message:
        if message_ref == "@original":
            if interaction.original_message_id is None:
                raise not_found(E.UNKNOWN_MESSAGE, "Message")
            message_id = interaction.original_message_id
        else:
            message_id = int(message_ref)
            if (
                message_id != interaction.original_message_id
                and message_id not in interaction.followup_ids
            ):
                raise not_found(E.UNKNOWN_MESSAGE, "Message")
        message = self.store.messages[message_id]
        if message.deleted:
            raise not_found(E.UNKNOWN_MESSAGE, "Message")
        return message
