"""kimaki's OPENCODE_CONFIG on a real server: merged over the global config, under the project's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.kimaki_config import opencode_config_env
from kimaki.opencode.rest import OpenCodeClient
from tests.conftest import start_server
from tests.support.world import World


async def test_kimaki_rules_apply_and_a_project_rule_still_wins(
    world: World, make_project: Callable[[], Path], tmp_path: Path
) -> None:
    project = make_project()
    config = json.loads((project / "opencode.json").read_text())
    config["permission"] = {"bash": "ask"}  # the project's own rule
    (project / "opencode.json").write_text(json.dumps(config))
    server = start_server(world, tmp_path)
    server.extra_env.update(opencode_config_env(tmp_path))
    await server.start()
    try:
        async with OpenCodeClient(lambda: server.endpoint) as client:
            merged = await client._json("GET", "/config", directory=str(project))
    finally:
        await server.stop()
    permission = merged["permission"]
    assert permission["bash"] == "ask"  # project over kimaki
    assert permission["edit"] == "allow" and permission["webfetch"] == "allow"  # kimaki's
    assert permission["*"] == "allow"  # the user's global rule, untouched
