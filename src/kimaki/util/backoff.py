"""The one retry delay of the project: exponential, capped, optionally jittered."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """`initial * factor**(failures-1)`, capped at `maximum`, then spread by ±`jitter`.

    Jitter (a fraction, 0.2 = ±20 %) keeps many clients that failed together from
    retrying together; leave it 0 where a test wants predictable delays.
    """

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    jitter: float = 0.0

    def delay(
        self, failures: int, uniform: Callable[[float, float], float] = random.uniform
    ) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1 for the first)."""
        base = min(self.maximum, self.initial * self.factor ** max(0, failures - 1))
        if not self.jitter:
            return float(base)
        return float(base * uniform(1.0 - self.jitter, 1.0 + self.jitter))
