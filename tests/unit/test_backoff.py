"""The project's one retry delay."""

from __future__ import annotations

from kimaki.util.backoff import Backoff


def test_delay_doubles_from_initial_and_stops_at_the_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.delay(0) == 0.5  # no failure yet counts as the first


def test_factor_shapes_the_growth() -> None:
    assert [Backoff(initial=1, factor=3, maximum=100).delay(n) for n in (1, 2, 3)] == [1, 3, 9]


def test_jitter_spreads_the_capped_delay_by_its_fraction() -> None:
    backoff = Backoff(initial=2.0, maximum=2.0, jitter=0.25)
    assert backoff.delay(5, uniform=lambda low, high: low) == 1.5
    assert backoff.delay(5, uniform=lambda low, high: high) == 2.5
    assert all(1.5 <= backoff.delay(1) <= 2.5 for _ in range(50))
