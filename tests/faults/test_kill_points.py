"""kill -9 of kimaki at seeded points, and OpenCode killed mid-turn, judged by the oracle.

The fast part of the fault suite: one seed, every kind of kill point once (the
benchmark, `bench/faults.py`, runs many seeds and points). After the last point the
oracle checks everything the run did: each finished part once, in its thread, in order;
each message one turn.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from discord_twin import Twin
from scripted_model import ScriptedModel
from tests.faults.kill_points import POINTS, opencode_killed, pick
from tests.faults.rig import Rig
from tests.support.world import World

SEED = 1


async def test_kill_9_at_every_kind_of_point_loses_and_doubles_nothing(
    world: World,
    twin: Twin,
    scripted_model: ScriptedModel,
    make_project: Callable[[], Path],
    tmp_path: Path,
) -> None:
    rig = await Rig.create(world, twin, scripted_model, tmp_path / "data", make_project())
    rng = random.Random(SEED)
    points = pick(rng, len(POINTS), f"s{SEED}k")
    await rig.start()
    try:
        for point in points:
            began = time.monotonic()
            await POINTS[point.kind](rig, point.tag, rng)
            print(f"{point.kind}: {time.monotonic() - began:.1f}s")
        await opencode_killed(rig, f"s{SEED}oc", rng)
        result = await rig.check()
        print(result.summary())
        assert result.clean, result.summary()
        assert result.parts_checked >= 2 * len(points), result.summary()
        assert result.messages_checked >= len(points), result.summary()
        assert rig.kills >= len(points)
        assert await rig.stop() == 0
    finally:
        if rig.running:
            await rig.kill9()
