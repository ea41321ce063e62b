"""/model: show or choose the model (and variant) prompts use.

The choice is stored (`kimaki.prompt_options`) and named by every later prompt, so a
change during a running turn applies to the next one. Without options it shows the
current model, where it comes from, and a menu; `clear` drops a scope's choice.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from kimaki.bot.commands.base import (
    Answer,
    AnyCommand,
    CommandGroup,
    Components,
    answer_later,
    button,
    in_time,
    reply,
    select,
    view_of,
)
from kimaki.bot.commands.choices import (
    CLEAR,
    SCOPE_CHOICES,
    SCOPE_WORDS,
    Place,
    current_model,
    from_arg,
    model_choices,
    parse_model,
    place_of,
    scoped,
)
from kimaki.bot.commands.kit import Kit
from kimaki.discord_limits import CHOICES_LIMIT, NAME_LIMIT
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import Model, ModelRef, ProviderCatalog
from kimaki.prompt_options import Chosen
from kimaki.store import Scope

DEFAULT_VARIANT = "default"

group: CommandGroup[Kit] = CommandGroup()

# --- /model


@group.command
def model_command(kit: Kit) -> AnyCommand:
    @app_commands.command(name="model", description="Show or choose the model prompts use")
    @app_commands.describe(
        model="provider/model (or clear)",
        scope="whose model: this session (in a thread), this channel, or global",
        variant="the model's variant or thinking level",
    )
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def model(
        interaction: discord.Interaction,
        model: str | None = None,
        scope: str | None = None,
        variant: str | None = None,
    ) -> None:
        found = await scoped(kit, interaction, "model", scope)
        if found is None:
            return
        place, chosen = found
        if model is None and variant is None:
            await answer_later(interaction, show_model(kit, place, chosen))
            return
        work = choose_model(kit, place, chosen, model, variant)
        await answer_later(interaction, work, ephemeral=False)

    @model.autocomplete("model")
    async def models(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await in_time(model_choices(kit, interaction, current, with_clear=True))

    @model.autocomplete("variant")
    async def variants(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await in_time(variant_choices(kit, interaction, current))

    return model


async def variant_choices(
    kit: Kit, interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The variants of the model typed in the `model` option (else of the current one)."""
    place = place_of(kit, interaction)
    if place is None:
        return []
    named = getattr(interaction.namespace, "model", None)
    try:
        catalog = await kit.opencode.providers(place.directory)
        ref = parse_model(named) if named else await current_model(kit, place)
    except OpenCodeError:
        return []
    found = catalog.model(ref) if ref else None
    names = [DEFAULT_VARIANT, *(found.variants if found else ())]
    return [app_commands.Choice(name=n, value=n) for n in names if current.lower() in n][
        :CHOICES_LIMIT
    ]


def _describe_model(chosen: Chosen, current: ModelRef | None) -> str:
    if current is None:
        return "OpenCode names no default model; choose one"
    variant = f", variant `{chosen.variant}`" if chosen.variant else ""
    return f"model `{current}`{variant}, from {chosen.model_source.value}"


async def show_model(kit: Kit, place: Place, scope: Scope) -> Answer:
    chosen = kit.options.chosen(place.session_id, place.channel_id)
    current = chosen.model or await kit.options.default_model(place.directory)
    catalog = await kit.opencode.providers(place.directory)
    models = _menu_models(catalog, current)
    text = _describe_model(chosen, current)
    if len(models) < sum(1 for _ in catalog.models()):
        text += f"; the menu lists {len(models)}, the `model` option finds every model"
    options = [
        discord.SelectOption(
            label=str(m.ref)[:NAME_LIMIT],
            value=str(m.ref),
            description=(m.name or None) and m.name[:NAME_LIMIT],
            default=m.ref == current,
        )
        for m in models
    ]
    items: list[discord.ui.Item[Any]] = []
    if options:
        items.append(select("model", place.arg(scope), options, f"model for {SCOPE_WORDS[scope]}"))
    override = kit.options.override(scope, place.target(scope))
    if override is not None and override.model:
        items.append(button("model-clear", place.arg(scope), f"Clear ({SCOPE_WORDS[scope]})"))
    return Answer(text, view=view_of(*items) if items else None)


def _menu_models(catalog: ProviderCatalog, current: ModelRef | None) -> list[Model]:
    """At most a menu's worth, the current model's provider first."""
    models = [m for m in catalog.models() if len(str(m.ref)) <= NAME_LIMIT]
    if current is not None:
        models.sort(key=lambda m: m.provider_id != current.provider_id)
    return models[:CHOICES_LIMIT]


async def choose_model(
    kit: Kit, place: Place, scope: Scope, model: str | None, variant: str | None
) -> str | Answer:
    target = place.target(scope)
    where = SCOPE_WORDS[scope]
    if model is not None and model.strip().lower() == CLEAR:
        cleared = kit.options.clear_model(scope, target)
        chosen = kit.options.chosen(place.session_id, place.channel_id)
        now = chosen.model or await kit.options.default_model(place.directory)
        what = "cleared the model chosen for" if cleared else "no model was chosen for"
        return f"{what} {where}; prompts here use {_describe_model(chosen, now)}"
    catalog = await kit.opencode.providers(place.directory)
    if model is not None:
        ref = parse_model(model)
        if ref is None:
            return f"`{model}` is not a model: write provider/model, or pick one from the list"
    else:
        ref = await current_model(kit, place)
        if ref is None:
            return "choose a model first (the `model` option)"
    found = catalog.model(ref)
    if found is None:
        return f"OpenCode has no model `{ref}`; pick one from the list"
    if variant is not None and variant != DEFAULT_VARIANT and variant not in found.variants:
        has = ", ".join(found.variants) or "none"
        return f"`{ref}` has no variant `{variant}` (it has: {has})"
    picked = None if variant in (None, DEFAULT_VARIANT) else variant
    kit.options.set_model(scope, target, ref, picked)
    suffix = f" with variant `{picked}`" if picked else ""
    text = f"the model for {where} is now `{ref}`{suffix}, from the next prompt on"
    if found.variants and variant is None:
        options = [
            discord.SelectOption(label=name, value=f"{ref}|{name}")
            for name in (DEFAULT_VARIANT, *found.variants)
        ]
        menu = select("variant", place.arg(scope), options, "variant or thinking level")
        return Answer(text, view=view_of(menu))
    return text


@group.components
def model_components(kit: Kit, components: Components) -> None:
    async def picked(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        found = from_arg(kit, interaction, arg)
        if found is None or not values:
            await reply(interaction, "this menu no longer fits this place; run /model again")
            return
        place, scope = found
        work = choose_model(kit, place, scope, values[0], None)
        await answer_later(interaction, work, ephemeral=False)

    async def variant_picked(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        found = from_arg(kit, interaction, arg)
        if found is None or not values or "|" not in values[0]:
            await reply(interaction, "this menu no longer fits this place; run /model again")
            return
        place, scope = found
        model, _, variant = values[0].partition("|")
        work = choose_model(kit, place, scope, model, variant)
        await answer_later(interaction, work, ephemeral=False)

    async def cleared(interaction: discord.Interaction, arg: str, values: list[str]) -> None:
        found = from_arg(kit, interaction, arg)
        if found is None:
            await reply(interaction, "this button no longer fits this place; run /model again")
            return
        place, scope = found
        await answer_later(
            interaction, choose_model(kit, place, scope, CLEAR, None), ephemeral=False
        )

    components.handle("model", picked)
    components.handle("variant", variant_picked)
    components.handle("model-clear", cleared)
