"""Tolerant readers for OpenCode's JSON: a missing or mistyped field is None, not an error.

Every model keeps the payload it came from in `raw`, so fields this code does not
know survive a round trip and can be read later without a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Json = Mapping[str, Any]


class WireFormatError(ValueError):
    """A payload lacks a field that identifies it (an id); nothing sensible can use it."""


def get_str(data: Json, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def need_str(data: Json, key: str, what: str) -> str:
    value = get_str(data, key)
    if value is None:
        raise WireFormatError(f"{what} without {key!r}: {dict(data)!r:.200}")
    return value


def get_int(data: Json, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    return None


def get_obj(data: Json, key: str) -> Json:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def get_bool(data: Json, key: str) -> bool:
    return data.get(key) is True


def get_float(data: Json, key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def get_strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))
