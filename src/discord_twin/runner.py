"""`python -m discord_twin`: a standalone twin for demos and for bots in another process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .control import Twin


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m discord_twin", description="Run a local Discord-compatible server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rate-limits", choices=("generous", "realistic"), default="generous")
    parser.add_argument("--guild-name", default="Twin Guild")
    parser.add_argument("--bot-name", default="kimaki")
    parser.add_argument("--owner-name", default="owner")
    parser.add_argument("--channel-name", default="general")
    return parser.parse_args(argv)


def banner(twin: Twin) -> str:
    assert twin.seed is not None
    seed = twin.seed
    return "\n".join(
        [
            f"discord twin listening on {twin.url}",
            f"  viewer:   {twin.url}/",
            f"  control:  {twin.url}/_twin/state",
            f"  guild:    {seed.guild.name} ({seed.guild.id})",
            f"  owner:    {seed.owner.username} ({seed.owner.id})",
            f"  bot:      {seed.bot.username} ({seed.bot.id}), application {seed.app.id}",
            f"  channel:  #{seed.channel.name} ({seed.channel.id})",
            f"  token:    {seed.token}",
            f"KIMAKI_DISCORD_API_URL={twin.api_url}",
            f"KIMAKI_DISCORD_GATEWAY_URL={twin.gateway_url}",
        ]
    )


async def serve(args: argparse.Namespace) -> None:
    twin = Twin(host=args.host, port=args.port, rate_limits=args.rate_limits)
    twin.seed_default(
        guild_name=args.guild_name,
        owner_name=args.owner_name,
        bot_name=args.bot_name,
        channel_name=args.channel_name,
    )
    await twin.start()
    print(banner(twin), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await twin.stop()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
