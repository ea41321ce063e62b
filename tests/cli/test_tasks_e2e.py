"""Scheduled sends end to end, driven by a clock the test moves (nothing sleeps).

`kimaki send --send-at` stores the tasks; the in-process kimaki's scheduler fires
them through the same send path as `kimaki send`; /tasks and `kimaki task` act on them.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from kimaki.store import DiscordMessageID, SendRecord, SendState, TaskRecord
from kimaki.tasks.schedule import from_ms
from scripted_model import ScriptedModel, text
from tests.support.cli_run import cli_env, run_cli
from tests.support.clock import ManualClock
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.waiting import eventually

TIMEOUT = 60


def sends_of(running: Running, task_id: int) -> list[SendRecord]:
    rows = running.app.store.db.all(
        "SELECT message_id FROM sends WHERE task_id = ? ORDER BY message_id", (task_id,)
    )
    records = [running.app.store.sends.get(DiscordMessageID(r["message_id"])) for r in rows]
    return [r for r in records if r is not None]


def task(running: Running, task_id: int) -> TaskRecord:
    record = running.app.store.tasks.get(task_id)
    assert record is not None
    return record


async def answered_runs(running: Running, task_id: int, count: int) -> list[SendRecord]:
    async def done() -> list[SendRecord] | None:
        sends = sends_of(running, task_id)
        finished = [s for s in sends if s.state is SendState.ANSWERED]
        return sends if len(sends) == count and len(finished) == count else None

    return await eventually(done, timeout=TIMEOUT, what=f"{count} answered runs of #{task_id}")


async def test_scheduled_sends_fire_by_the_clock_once_late_and_never_overlap(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(t0)
    running = await start_kimaki(clock=clock)
    env = cli_env(running.twin, running.app.config.data_dir)
    gate = asyncio.Event()
    scripted_model.add_rule("tsk-cron", [text("Cron run done.").held(gate)])
    scripted_model.add_rule("tsk-once", [text("One-shot done.")])
    project = str(running.project)

    once_at = (t0 + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    made = await run_cli(
        ["send", "--project", project, "--prompt", "tsk-once: report", "--send-at", once_at], env
    )
    assert made.code == 0, made
    once_id = int(made.out.split()[-1])
    made = await run_cli(
        [
            "send",
            "--project",
            project,
            "--prompt",
            "tsk-cron: tick",
            "--send-at",
            "*/5 * * * *",
            "--pre-run",
            "echo pre-run says $((40 + 2))",
        ],
        env,
    )
    assert made.code == 0, made
    cron_id = int(made.out.split()[-1])
    first = task(running, cron_id).next_run
    assert first is not None and task(running, once_id).next_run == int(
        (t0 + timedelta(hours=1)).timestamp() * 1000
    )

    # The cron task's first occurrence: its pre-run's output goes with the prompt.
    clock.set(from_ms(first))
    request = await scripted_model.wait_for_request(
        lambda r: "tsk-cron" in r.prompt, timeout=TIMEOUT
    )
    assert "pre-run says 42" in request.prompt

    # The next occurrence comes while that run still goes: skipped, no overlap.
    clock.set(from_ms(first) + timedelta(minutes=5))

    async def skipped() -> bool:
        return (task(running, cron_id).last_outcome or "").startswith("skipped")

    await eventually(skipped, timeout=TIMEOUT, what="the overlapping occurrence skipped")
    assert len(sends_of(running, cron_id)) == 1
    gate.set()
    await answered_runs(running, cron_id, 1)
    assert sends_of(running, once_id) == []  # its time has not come

    # kimaki is down past the one-shot's time and many cron occurrences.
    await running.app.stop()
    late = t0 + timedelta(hours=2, minutes=2)
    clock.set(late)
    running = await start_kimaki(restart=running, clock=clock)
    (once_run,) = await answered_runs(running, once_id, 1)
    assert task(running, once_id).next_run is None
    await answered_runs(running, cron_id, 2)  # the latest missed occurrence, once
    latest = late.replace(minute=late.minute - late.minute % 5, second=0)
    assert task(running, cron_id).last_run == int(latest.timestamp() * 1000)
    next_run = task(running, cron_id).next_run
    assert next_run is not None and from_ms(next_run) > late

    # /tasks: Run now and Delete, through the gate like every button.
    twin = running.twin
    listing = twin.user(running.owner).slash("tasks", channel=running.channel)
    await listing.wait_response()
    message = listing.message()
    assert message is not None and f"#{cron_id}" in message.content
    await twin.user(running.owner).click(message, f"kimaki:task:{cron_id}:run").wait_response()
    await answered_runs(running, cron_id, 3)
    await twin.user(running.owner).click(message, f"kimaki:task:{once_id}:delete").wait_response()
    assert running.app.store.tasks.get(once_id) is None

    # kimaki task list / run / delete from the command line.
    listed = await run_cli(["task", "list", "--json"], env)
    assert [t["id"] for t in json.loads(listed.out)] == [cron_id]
    ran = await run_cli(["task", "run", str(cron_id)], env)
    assert ran.code == 0 and task(running, cron_id).run_now
    running.app.sends.scheduler.poke()
    await answered_runs(running, cron_id, 4)
    gone = await run_cli(["task", "delete", str(cron_id)], env)
    assert gone.code == 0 and running.app.store.tasks.all() == []
    assert once_run.thread_id is not None
