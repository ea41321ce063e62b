"""Which model, variant and agent a prompt uses: session > channel > global > OpenCode.

People choose with /model and /agent at one of three scopes (`store.prompt_overrides`);
the narrowest choice wins, and with none OpenCode decides (its config's `model`, its
default agent). Every prompt kimaki sends asks `for_prompt`, because OpenCode applies
`agent` and `variant` to one prompt only, while a prompt's `model` sticks to the session:

- an agent or variant chosen here is named in every prompt;
- a model chosen here is named in every prompt too, and remembered per session
  (`store.sent_models`); once no choice applies any more (it was cleared), the next
  prompt names OpenCode's default model once, so the session really goes back to it.
  A session kimaki never named a model for keeps whatever it has (say, a model picked
  in the terminal).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import ModelRef
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import GLOBAL_TARGET, ChannelID, Override, Scope, SessionID, Store

log = logging.getLogger(__name__)

DEFAULT_AGENT = "build"
"""OpenCode's default agent when its config names none (`default_agent`)."""


class Source(enum.StrEnum):
    """Where a value comes from, as /model and /agent say it."""

    SESSION = "this session"
    CHANNEL = "this channel"
    GLOBAL = "global"
    OPENCODE = "OpenCode's default"


_SOURCES = {
    Scope.SESSION: Source.SESSION,
    Scope.CHANNEL: Source.CHANNEL,
    Scope.GLOBAL: Source.GLOBAL,
}


@dataclass(frozen=True)
class Chosen:
    """The overrides that apply to a place (None where OpenCode decides)."""

    model: ModelRef | None = None
    variant: str | None = None
    model_source: Source = Source.OPENCODE
    agent: str | None = None
    agent_source: Source = Source.OPENCODE


@dataclass(frozen=True)
class PromptChoice:
    """What one prompt names (each None: leave it to OpenCode)."""

    model: ModelRef | None = None
    agent: str | None = None
    variant: str | None = None

    @property
    def model_pair(self) -> tuple[str, str] | None:
        return (self.model.provider_id, self.model.model_id) if self.model else None


def target_of(scope: Scope, session_id: SessionID | None, channel_id: ChannelID | None) -> str:
    """The row key of a scope at a place; ValueError if the place has no such scope."""
    if scope is Scope.GLOBAL:
        return GLOBAL_TARGET
    if scope is Scope.CHANNEL:
        if channel_id is None:
            raise ValueError("no project channel here")
        return str(channel_id)
    if session_id is None:
        raise ValueError("no session here")
    return str(session_id)


class PromptOptions:
    def __init__(self, store: Store, opencode: OpenCodeClient) -> None:
        self.store = store
        self.opencode = opencode

    # --- reading

    def chosen(self, session_id: SessionID | None, channel_id: ChannelID | None) -> Chosen:
        """The narrowest model choice and the narrowest agent choice at this place."""
        rows = [r for r in self._rows(session_id, channel_id) if r is not None]
        model_row = next((r for r in rows if r.model), None)
        agent_row = next((r for r in rows if r.agent), None)
        return Chosen(
            model=_parse(model_row.model) if model_row and model_row.model else None,
            variant=model_row.variant if model_row else None,
            model_source=_SOURCES[model_row.scope] if model_row else Source.OPENCODE,
            agent=agent_row.agent if agent_row else None,
            agent_source=_SOURCES[agent_row.scope] if agent_row else Source.OPENCODE,
        )

    def override(self, scope: Scope, target: str) -> Override | None:
        return self.store.prompt_overrides.get(scope, target)

    def _rows(
        self, session_id: SessionID | None, channel_id: ChannelID | None
    ) -> list[Override | None]:
        table = self.store.prompt_overrides
        return [
            table.get(Scope.SESSION, session_id) if session_id else None,
            table.get(Scope.CHANNEL, str(channel_id)) if channel_id is not None else None,
            table.get(Scope.GLOBAL, GLOBAL_TARGET),
        ]

    async def default_model(self, directory: str) -> ModelRef | None:
        """The model OpenCode gives a prompt that names none (`GET /config` → `model`)."""
        return (await self.opencode.config(directory)).model

    async def default_agent(self, directory: str) -> str:
        config = await self.opencode.config(directory)
        named = config.raw.get("default_agent")
        return named if isinstance(named, str) and named else DEFAULT_AGENT

    # --- what a prompt names

    async def for_prompt(
        self, session_id: SessionID, channel_id: ChannelID | None, directory: str
    ) -> PromptChoice:
        """The model, agent and variant the next prompt to `session_id` names."""
        chosen = self.chosen(session_id, channel_id)
        model = chosen.model
        if model is not None:
            self.store.sent_models.set(session_id, str(model))
        elif self.store.sent_models.get(session_id) is not None:
            model = await self._default_or_none(directory)
            self.store.sent_models.remove(session_id)
        return PromptChoice(model=model, agent=chosen.agent, variant=chosen.variant)

    async def _default_or_none(self, directory: str) -> ModelRef | None:
        try:
            return await self.default_model(directory)
        except OpenCodeError as exc:
            log.warning("could not read OpenCode's default model for %s: %s", directory, exc)
            return None

    # --- choosing

    def set_model(
        self, scope: Scope, target: str, model: ModelRef, variant: str | None = None
    ) -> None:
        self.store.prompt_overrides.set_model(scope, target, str(model), variant)

    def clear_model(self, scope: Scope, target: str) -> bool:
        return self.store.prompt_overrides.clear_model(scope, target)

    def set_agent(self, scope: Scope, target: str, agent: str) -> None:
        self.store.prompt_overrides.set_agent(scope, target, agent)

    def clear_agent(self, scope: Scope, target: str) -> bool:
        return self.store.prompt_overrides.clear_agent(scope, target)

    def inherit(self, parent: SessionID, child: SessionID) -> None:
        """A fork keeps the choices of the session it came from."""
        self.store.prompt_overrides.copy(Scope.SESSION, str(parent), str(child))


def _parse(text: str) -> ModelRef | None:
    try:
        return ModelRef.parse(text)
    except ValueError:
        log.warning("ignoring a stored model that is not provider/model: %r", text)
        return None
