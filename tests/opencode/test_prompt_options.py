"""Which model, agent and variant a prompt names: the narrowest choice, then OpenCode's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kimaki.opencode.models import ModelRef
from kimaki.opencode.rest import OpenCodeClient
from kimaki.prompt_options import PromptOptions, Source, target_of
from kimaki.store import GLOBAL_TARGET, ChannelID, Scope, SessionID, Store

VISION = ModelRef("scripted", "scripted-vision")
PLAIN = ModelRef("scripted", "scripted-1")
SESSION = SessionID("ses_x")
CHANNEL = ChannelID(7)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


async def test_the_narrowest_choice_wins_and_clearing_goes_back_to_opencodes_default(
    store: Store, opencode: OpenCodeClient, make_project: Callable[[], Path]
) -> None:
    directory = str(make_project())
    options = PromptOptions(store, opencode)
    first = await options.for_prompt(SESSION, CHANNEL, directory)
    assert (first.model, first.agent, first.variant) == (None, None, None)
    assert options.chosen(SESSION, CHANNEL).model_source is Source.OPENCODE

    options.set_model(Scope.GLOBAL, GLOBAL_TARGET, PLAIN)
    options.set_model(Scope.CHANNEL, str(CHANNEL), VISION, "high")
    options.set_agent(Scope.GLOBAL, GLOBAL_TARGET, "plan")
    chosen = options.chosen(SESSION, CHANNEL)
    assert (chosen.model, chosen.variant, chosen.model_source) == (VISION, "high", Source.CHANNEL)
    assert (chosen.agent, chosen.agent_source) == ("plan", Source.GLOBAL)
    assert options.chosen(SESSION, ChannelID(8)).model == PLAIN  # another channel

    options.set_model(Scope.SESSION, SESSION, PLAIN)
    choice = await options.for_prompt(SESSION, CHANNEL, directory)
    assert (choice.model_pair, choice.agent, choice.variant) == (tuple(PLAIN), "plan", None)

    for scope, target in [
        (Scope.SESSION, str(SESSION)),
        (Scope.CHANNEL, str(CHANNEL)),
        (Scope.GLOBAL, GLOBAL_TARGET),
    ]:
        assert options.clear_model(scope, target)
    # The session kept the last model kimaki named: one prompt names the default again.
    reset = await options.for_prompt(SESSION, CHANNEL, directory)
    assert reset.model == await options.default_model(directory) == PLAIN
    after = await options.for_prompt(SESSION, CHANNEL, directory)
    assert after.model is None and after.agent == "plan"
    assert await options.default_agent(directory) == "build"


def test_targets_name_the_place_of_each_scope() -> None:
    assert target_of(Scope.GLOBAL, None, None) == GLOBAL_TARGET
    assert target_of(Scope.CHANNEL, SESSION, CHANNEL) == "7"
    assert target_of(Scope.SESSION, SESSION, CHANNEL) == SESSION
    with pytest.raises(ValueError):
        target_of(Scope.SESSION, None, CHANNEL)
    with pytest.raises(ValueError):
        target_of(Scope.CHANNEL, SESSION, None)
