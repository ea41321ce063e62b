"""``python -m scripted_model --port P``: serve the default (echo) rule for demos."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

from .config import opencode_provider_config
from .server import ScriptedModel


async def serve(port: int) -> None:
    model = ScriptedModel()
    await model.start(port=port)
    print(f"scripted model at {model.base_url}; opencode.json fragment:", flush=True)
    print(json.dumps(opencode_provider_config(model.base_url), indent=2), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await model.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
