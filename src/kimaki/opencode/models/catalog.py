"""What OpenCode offers: agents, providers and their models, commands, skills, its config.

Read from `GET /agent`, `GET /config/providers`, `GET /command`, `GET /skill` and
`GET /config` (observed on 1.18.33).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .ids import ModelRef
from .usage import Tokens
from .wire import Json, get_bool, get_float, get_int, get_obj, get_str, get_strs, need_str


@dataclass(frozen=True)
class Agent:
    """`mode` is `primary`, `subagent` or `all`; `hidden` agents are OpenCode's own helpers."""

    name: str
    description: str
    mode: str
    native: bool
    hidden: bool
    model: ModelRef | None
    variant: str | None
    raw: Json = field(repr=False)

    @property
    def is_primary(self) -> bool:
        """Can drive a session (a subagent only runs inside the `task` tool)."""
        return self.mode in ("primary", "all")

    @property
    def selectable(self) -> bool:
        """Worth offering to a person: primary and not hidden (compaction, title, summary)."""
        return self.is_primary and not self.hidden

    @classmethod
    def from_json(cls, data: Json) -> Agent:
        return cls(
            name=need_str(data, "name", "agent"),
            description=get_str(data, "description") or "",
            mode=get_str(data, "mode") or "all",
            native=get_bool(data, "native"),
            hidden=get_bool(data, "hidden"),
            model=ModelRef.from_json(get_obj(data, "model")),
            variant=get_str(data, "variant"),
            raw=data,
        )


@dataclass(frozen=True)
class ModelCost:
    """Dollars per million tokens."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0

    def of(self, tokens: Tokens) -> float:
        """What OpenCode charges for these tokens (reasoning is priced as output)."""
        return (
            tokens.input * self.input
            + (tokens.output + tokens.reasoning) * self.output
            + tokens.cache_read * self.cache_read
            + tokens.cache_write * self.cache_write
        ) / 1_000_000

    @classmethod
    def from_json(cls, data: Json) -> ModelCost:
        cache = get_obj(data, "cache")
        return cls(
            input=get_float(data, "input") or 0.0,
            output=get_float(data, "output") or 0.0,
            cache_read=get_float(cache, "read") or 0.0,
            cache_write=get_float(cache, "write") or 0.0,
        )


@dataclass(frozen=True)
class Model:
    id: str
    provider_id: str
    name: str
    reasoning: bool
    tool_call: bool
    attachment: bool
    inputs: frozenset[str]
    context_limit: int | None
    output_limit: int | None
    cost: ModelCost
    variants: tuple[str, ...]
    raw: Json = field(repr=False)

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.provider_id, self.id)

    def accepts(self, mime: str) -> bool:
        """Whether a file of this type reaches the model as itself (not as an error text)."""
        kind = mime.split(";", 1)[0].strip().lower()
        if kind.startswith("image/"):
            return "image" in self.inputs
        if kind == "application/pdf":
            return "pdf" in self.inputs
        return kind.startswith("text/")

    def context_percent(self, tokens: Tokens) -> float | None:
        if not self.context_limit:
            return None
        return 100.0 * tokens.context / self.context_limit

    @classmethod
    def from_json(cls, data: Json, provider_id: str = "") -> Model:
        caps = get_obj(data, "capabilities")
        limit = get_obj(data, "limit")
        inputs = get_obj(caps, "input")
        return cls(
            id=need_str(data, "id", "model"),
            provider_id=get_str(data, "providerID") or provider_id,
            name=get_str(data, "name") or "",
            reasoning=get_bool(caps, "reasoning"),
            tool_call=get_bool(caps, "toolcall"),
            attachment=get_bool(caps, "attachment"),
            inputs=frozenset(k for k, v in inputs.items() if v is True),
            context_limit=get_int(limit, "context") or None,
            output_limit=get_int(limit, "output") or None,
            cost=ModelCost.from_json(get_obj(data, "cost")),
            variants=tuple(get_obj(data, "variants")),
            raw=data,
        )


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    source: str
    models: Mapping[str, Model]
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Provider:
        provider_id = need_str(data, "id", "provider")
        models: dict[str, Model] = {}
        for key, value in get_obj(data, "models").items():
            if isinstance(value, Mapping):
                model = Model.from_json({"id": key, **value}, provider_id)
                models[model.id] = model
        return cls(
            provider_id, get_str(data, "name") or "", get_str(data, "source") or "", models, data
        )


@dataclass(frozen=True)
class ProviderCatalog:
    """The providers OpenCode can use now (`GET /config/providers`).

    `defaults` maps each provider to the model OpenCode would pick *within it*; it is not
    the default model of new sessions (that is `OpenCodeConfig.model`).
    """

    providers: tuple[Provider, ...]
    defaults: Mapping[str, str]

    def models(self) -> Iterator[Model]:
        for provider in self.providers:
            yield from provider.models.values()

    def model(self, ref: ModelRef) -> Model | None:
        provider = next((p for p in self.providers if p.id == ref.provider_id), None)
        return provider.models.get(ref.model_id) if provider else None

    @classmethod
    def from_json(cls, data: Json) -> ProviderCatalog:
        providers = data.get("providers")
        defaults = get_obj(data, "default")
        return cls(
            providers=tuple(
                Provider.from_json(p)
                for p in (providers if isinstance(providers, list) else [])
                if isinstance(p, Mapping)
            ),
            defaults={k: v for k, v in defaults.items() if isinstance(v, str)},
        )


@dataclass(frozen=True)
class Command:
    """A slash command: `source` is `command` (config or built-in), `mcp` (a prompt) or `skill`."""

    name: str
    description: str
    source: str
    template: str
    agent: str | None
    model: str | None
    subtask: bool
    hints: tuple[str, ...]
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Command:
        return cls(
            name=need_str(data, "name", "command"),
            description=get_str(data, "description") or "",
            source=get_str(data, "source") or "command",
            template=get_str(data, "template") or "",
            agent=get_str(data, "agent"),
            model=get_str(data, "model"),
            subtask=get_bool(data, "subtask"),
            hints=get_strs(data.get("hints")),
            raw=data,
        )


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    location: str
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Skill:
        return cls(
            need_str(data, "name", "skill"),
            get_str(data, "description") or "",
            get_str(data, "location") or "",
            data,
        )


@dataclass(frozen=True)
class OpenCodeConfig:
    """The merged config of an instance (`GET /config`); `model` is what new sessions use."""

    model: ModelRef | None
    small_model: ModelRef | None
    share: str | None
    raw: Json = field(repr=False)

    @classmethod
    def from_json(cls, data: Json) -> OpenCodeConfig:
        return cls(_model(data, "model"), _model(data, "small_model"), get_str(data, "share"), data)


def _model(data: Json, key: str) -> ModelRef | None:
    text = get_str(data, key)
    try:
        return ModelRef.parse(text) if text else None
    except ValueError:
        return None
