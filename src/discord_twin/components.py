"""Walking message and modal component trees (action rows, sections, labels, containers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
ACTION_ROW = 1
LABEL = 18


def iter_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component, depth first, whatever container holds it."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        for key in ("component", "accessory"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from iter_components([child])


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    for component in iter_components(components):
        if component.get("custom_id") == custom_id:
            return component
    return None


def custom_ids(components: list[dict[str, Any]]) -> list[str]:
    return [c["custom_id"] for c in iter_components(components) if "custom_id" in c]


def modal_submission(
    components: list[dict[str, Any]], values: dict[str, str | list[str]]
) -> list[dict[str, Any]]:
    """The `data.components` Discord sends back for a modal, mirroring the modal's layout."""
    out: list[dict[str, Any]] = []
    for component in components:
        ctype = component.get("type")
        if ctype == ACTION_ROW:
            children = [_submitted(c, values) for c in component.get("components") or []]
            out.append({"type": ACTION_ROW, "components": [c for c in children if c]})
        elif ctype == LABEL and isinstance(component.get("component"), dict):
            child = _submitted(component["component"], values)
            if child:
                out.append({"type": LABEL, "id": component.get("id", 0), "component": child})
    return out


def _submitted(component: dict[str, Any], values: dict[str, str | list[str]]) -> dict[str, Any]:
    custom_id = component.get("custom_id")
    if custom_id is None:
        return {}
    value = values.get(custom_id, component.get("value") or "")
    result: dict[str, Any] = {"type": component["type"], "custom_id": custom_id}
    if component["type"] == TEXT_INPUT:
        result["value"] = value if isinstance(value, str) else ",".join(value)
    else:
        result["values"] = [value] if isinstance(value, str) else list(value)
    if "id" in component:
        result["id"] = component["id"]
    return result
