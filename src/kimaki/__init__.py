"""kimaki: OpenCode coding sessions in Discord."""

from __future__ import annotations

__version__ = "0.1.0"
