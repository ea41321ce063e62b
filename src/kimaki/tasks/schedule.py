"""When a scheduled send fires: an ISO-8601 instant (UTC) or a 5-field cron expression.

Cron expressions are evaluated in UTC by cronsim (a small, typed, dependency-free
library that follows Debian cron's semantics, including its day-of-month/day-of-week
rule). Everything here is pure: the scheduler passes its own clock's `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from kimaki.store import TaskKind


class ScheduleError(ValueError):
    """A `--send-at` value kimaki cannot use; the message says why in one line."""


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def parse_when(text: str, now: datetime) -> tuple[TaskKind, int]:
    """The schedule's kind and its first run (ms), or `ScheduleError`."""
    raw = text.strip()
    if len(raw.split()) == 5:
        try:
            first = next_cron(raw, now)
        except CronSimError as exc:
            raise ScheduleError(f"--send-at {raw!r} is not a cron expression: {exc}") from None
        return TaskKind.CRON, first
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ScheduleError(
            f"--send-at takes an ISO-8601 UTC time (2030-01-31T09:00Z) or a 5-field cron "
            f"expression ('0 9 * * 1-5'), got {raw!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        raise ScheduleError(f"--send-at {raw} is in the past (it is {now:%Y-%m-%dT%H:%MZ} UTC)")
    return TaskKind.ONCE, to_ms(moment)


def next_cron(expression: str, after: datetime) -> int:
    """The first occurrence strictly after `after` (ms)."""
    naive = after.astimezone(UTC).replace(tzinfo=None)
    # cronsim works on whole minutes: an occurrence at `after` itself is never returned.
    occurrence = next(iter(CronSim(expression, naive)))
    return to_ms(occurrence.replace(tzinfo=UTC))


def latest_cron(expression: str, at_or_before: datetime) -> int | None:
    """The newest occurrence at or before `at_or_before` (ms), the one a late run stands for."""
    naive = at_or_before.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    # reverse=True yields occurrences before its start; a second past it includes it.
    start = naive.replace(second=0)
    try:
        occurrence = next(iter(CronSim(expression, _plus_a_minute(start), reverse=True)))
    except StopIteration:
        return None
    moment = occurrence.replace(tzinfo=UTC)
    return to_ms(moment) if moment <= at_or_before.astimezone(UTC) else None


def _plus_a_minute(moment: datetime) -> datetime:
    return datetime.fromtimestamp(moment.replace(tzinfo=UTC).timestamp() + 60, UTC).replace(
        tzinfo=None
    )


def describe(ms: int | None) -> str:
    return "—" if ms is None else from_ms(ms).strftime("%Y-%m-%d %H:%M:%SZ")
