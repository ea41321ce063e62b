"""The ``opencode.json`` fragment that makes OpenCode use the scripted model."""

from __future__ import annotations

from typing import Any

PROVIDER_ID = "scripted"


def opencode_provider_config(
    base_url: str, model_id: str = "scripted-1", provider_id: str = PROVIDER_ID
) -> dict[str, Any]:
    """Provider, model and default model settings; merge ``permission`` etc. in yourself.

    ``base_url`` is the model's ``.../v1`` URL. The model entry declares tool calling (OpenCode
    sends no tools otherwise) and limits, since with ``OPENCODE_DISABLE_MODELS_FETCH`` OpenCode
    knows nothing about it beyond this.
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
    return {
        "provider": {
            provider_id: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Scripted",
                "options": {"baseURL": base_url, "apiKey": "x"},
                "models": {model_id: model},
            }
        },
        "model": f"{provider_id}/{model_id}",
        "small_model": f"{provider_id}/{model_id}",
    }
