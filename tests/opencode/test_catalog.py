"""What OpenCode offers, read through the client: agents, models, commands, skills, config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.models import ModelRef, Tokens
from kimaki.opencode.rest import OpenCodeClient
from scripted_model import VISION_CONTEXT, VISION_COST, VISION_MODEL_ID


async def test_agents_split_into_primary_subagent_and_hidden(
    opencode: OpenCodeClient, make_project: Callable[[], Path]
) -> None:
    agents = {a.name: a for a in await opencode.agents(str(make_project()))}
    assert {n for n, a in agents.items() if a.selectable} == {"build", "plan"}
    assert {n for n, a in agents.items() if a.mode == "subagent"} == {"explore", "general"}
    assert {n for n, a in agents.items() if a.hidden} == {"compaction", "summary", "title"}
    assert all(a.native for a in agents.values())


async def test_models_carry_capabilities_limits_costs_and_variants(
    opencode: OpenCodeClient, make_project: Callable[[], Path]
) -> None:
    project = str(make_project())
    catalog = await opencode.providers(project)
    plain = catalog.model(ModelRef("scripted", "scripted-1"))
    vision = catalog.model(ModelRef("scripted", VISION_MODEL_ID))
    assert plain is not None and vision is not None
    assert not plain.accepts("image/png") and not plain.attachment
    assert plain.accepts("text/plain; charset=utf-8")
    assert vision.accepts("image/png") and vision.accepts("application/pdf")
    assert vision.attachment and vision.reasoning and vision.tool_call
    assert vision.context_limit == VISION_CONTEXT
    assert vision.cost.input == VISION_COST["input"]
    assert vision.cost.cache_read == VISION_COST["cache_read"]
    # OpenCode adds reasoning-effort variants to an OpenAI-compatible reasoning model.
    assert vision.variants == ("low", "medium", "high") and plain.variants == ()
    assert vision.cost.of(Tokens(input=1_000_000)) == VISION_COST["input"]
    assert vision.context_percent(Tokens(input=VISION_CONTEXT // 4)) == 25.0
    # `default` is each provider's own pick, not the default model of new sessions.
    assert catalog.defaults["scripted"] in ("scripted-1", VISION_MODEL_ID)
    config = await opencode.config(project)
    assert config.model == ModelRef("scripted", "scripted-1")
    assert str(config.model) == "scripted/scripted-1"


async def test_commands_list_config_commands_builtins_and_skills(
    opencode: OpenCodeClient, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    config_file = project / "opencode.json"
    config = json.loads(config_file.read_text())
    config["command"] = {
        "greet-cmd": {
            "template": "Say hello to $ARGUMENTS",
            "description": "greets",
            "agent": "plan",
        }
    }
    config_file.write_text(json.dumps(config))
    commands = {c.name: c for c in await opencode.commands(str(project))}
    assert commands["greet-cmd"].source == "command"
    assert commands["greet-cmd"].agent == "plan"
    assert commands["greet-cmd"].template == "Say hello to $ARGUMENTS"
    assert commands["review"].subtask and commands["init"].hints == ("$ARGUMENTS",)
    skills = [c for c in commands.values() if c.source == "skill"]
    assert [s.name for s in skills] == [s.name for s in await opencode.skills(str(project))]
    assert skills, "1.18.33 lists its built-in skill as a command with source 'skill'"
