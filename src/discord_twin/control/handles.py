"""An interaction a test user started: wait for the bot's answer and read what it produced."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..state import Interaction, Message

if TYPE_CHECKING:
    from .twin import Twin


class InteractionHandle:
    """A user's interaction in flight: wait for the bot's answer, read what it produced."""

    def __init__(self, twin: Twin, interaction: Interaction) -> None:
        self.twin = twin
        self.interaction = interaction

    @property
    def responded(self) -> bool:
        return self.interaction.response_type is not None

    @property
    def response_type(self) -> int | None:
        return self.interaction.response_type

    @property
    def modal(self) -> dict[str, Any] | None:
        if self.interaction.response_type == 9:
            return self.interaction.response_data
        return None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        if self.interaction.response_type == 8 and self.interaction.response_data is not None:
            choices: list[dict[str, Any]] = self.interaction.response_data.get("choices") or []
            return choices
        return None

    def message(self) -> Message | None:
        """The original response message (or the component message a type 7 updated)."""
        mid = self.interaction.original_message_id
        return self.twin.store.messages.get(mid) if mid is not None else None

    def followups(self) -> list[Message]:
        return [self.twin.store.messages[m] for m in self.interaction.followup_ids]

    async def wait_response(self, timeout: float = 30.0) -> InteractionHandle:
        await self.twin.events.wait_for(
            ("interaction_response",), lambda i: i is self.interaction, timeout=timeout
        )
        return self

    async def wait_message(
        self, predicate: Callable[[Message], bool] | None = None, *, timeout: float = 30.0
    ) -> Message:
        """The original response once it satisfies `predicate` (e.g. a deferred one edited)."""

        def match(message: Message) -> bool:
            return message.id == self.interaction.original_message_id and (
                predicate is None or predicate(message)
            )

        await self.wait_response(timeout)
        event = await self.twin.events.wait_for(
            ("message_create", "message_update"), match, timeout=timeout
        )
        message: Message = event.subject
        return message

    async def wait_followup(
        self, predicate: Callable[[Message], bool] | None = None, *, timeout: float = 30.0
    ) -> Message:
        def match(subject: tuple[Interaction, Message]) -> bool:
            interaction, message = subject
            return interaction is self.interaction and (predicate is None or predicate(message))

        event = await self.twin.events.wait_for(("interaction_followup",), match, timeout=timeout)
        message: Message = event.subject[1]
        return message
