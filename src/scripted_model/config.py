"""The ``opencode.json`` fragment that makes OpenCode use the scripted model."""

from __future__ import annotations

from typing import Any

PROVIDER_ID = "scripted"
VISION_MODEL_ID = "scripted-vision"
# Dollars per million tokens (OpenCode's unit): a turn's cost is tokens × price / 1e6.
VISION_COST = {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75}
VISION_CONTEXT = 200_000


def opencode_provider_config(
    base_url: str, model_id: str = "scripted-1", provider_id: str = PROVIDER_ID
) -> dict[str, Any]:
    """Provider, model and default model settings; merge ``permission`` etc. in yourself.

    ``base_url`` is the model's ``.../v1`` URL. Model entries declare tool calling (OpenCode
    sends no tools otherwise) and limits, since with ``OPENCODE_DISABLE_MODELS_FETCH`` OpenCode
    knows nothing about them beyond this. ``model_id`` (the default) is text-only and free;
    ``scripted-vision`` takes images and PDFs, reasons (so OpenCode offers the variants low,
    medium and high), costs ``VISION_COST`` and has a ``VISION_CONTEXT`` token window.
    """
    model = {
        "name": "Scripted model",
        "tool_call": True,
        "reasoning": False,
        "attachment": False,
        "temperature": True,
        "limit": {"context": 128_000, "output": 8_192},
        "cost": {"input": 0, "output": 0},
    }
    vision = {
        **model,
        "name": "Scripted vision model",
        "reasoning": True,
        "attachment": True,
        "modalities": {"input": ["text", "image", "pdf"], "output": ["text"]},
        "limit": {"context": VISION_CONTEXT, "output": 8_192},
        "cost": dict(VISION_COST),
    }
    return {
        "provider": {
            provider_id: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Scripted",
                "options": {"baseURL": base_url, "apiKey": "x"},
                "models": {model_id: model, VISION_MODEL_ID: vision},
            }
        },
        "model": f"{provider_id}/{model_id}",
        "small_model": f"{provider_id}/{model_id}",
    }
