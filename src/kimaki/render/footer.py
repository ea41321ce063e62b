"""The footer line under a finished turn: how long it took, who answered, context and cost.

One line of Discord subtext (`-#`), e.g.
`-# ⬦ 12s · claude-sonnet-4 · build · context 38k/200k (19%) · $0.0421`. A figure
OpenCode did not give is left out: no cost for a free model, no percentage for a model
whose context limit kimaki could not read, no context when no step reported tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from kimaki.render.parts import NOTICE_PREFIX

SEPARATOR = " · "


@dataclass(frozen=True)
class TurnFigures:
    duration_ms: int | None
    model: str | None
    agent: str | None
    context_tokens: int | None
    """What the context window held at the turn's last step (OpenCode's own measure)."""
    context_limit: int | None
    cost: float | None
    """Dollars, summed over the turn's steps."""

    @property
    def context_percent(self) -> float | None:
        if not self.context_tokens or not self.context_limit:
            return None
        return 100.0 * self.context_tokens / self.context_limit


def render_footer(figures: TurnFigures) -> str:
    pieces = [
        duration(figures.duration_ms) if figures.duration_ms is not None else None,
        figures.model,
        figures.agent,
        _context(figures),
        dollars(figures.cost) if figures.cost else None,
    ]
    shown = [p for p in pieces if p]
    return f"-# {NOTICE_PREFIX} {SEPARATOR.join(shown) or 'done'}"


def duration(ms: int) -> str:
    """`4.2s`, `42s`, `3m 05s`, `1h 02m`."""
    seconds = max(ms, 0) / 1000
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def tokens(count: int) -> str:
    """`950`, `1.3k`, `45k`, `1.2M`."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        value, unit = count / 1000, "k"
    else:
        value, unit = count / 1_000_000, "M"
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{text.removesuffix('.0')}{unit}"


def dollars(cost: float) -> str:
    """`$1.23`, `$0.05`, `$0.0125`: cents from a dollar on, else three significant digits."""
    if cost >= 1:
        return f"${cost:.2f}"
    if cost < 0.0001:
        return "<$0.0001"
    return f"${cost:.3g}"


def percent(value: float) -> str:
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def _context(figures: TurnFigures) -> str | None:
    if not figures.context_tokens:
        return None
    used = tokens(figures.context_tokens)
    share = figures.context_percent
    if share is None or figures.context_limit is None:
        return f"context {used}"
    return f"context {used}/{tokens(figures.context_limit)} ({percent(share)})"
