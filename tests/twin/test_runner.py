from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp


async def test_python_m_discord_twin_prints_env_and_serves() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "discord_twin",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines: dict[str, str] = {}
        while "KIMAKI_DISCORD_GATEWAY_URL" not in lines:
            raw = await asyncio.wait_for(proc.stdout.readline(), 15)
            assert raw, "runner exited before printing its environment lines"
            line = raw.decode().strip()
            key, sep, value = line.partition("=")
            if sep and key.startswith("KIMAKI_"):
                lines[key] = value
            elif line.startswith("token:"):
                lines["token"] = line.split(":", 1)[1].strip()
        api = lines["KIMAKI_DISCORD_API_URL"]
        assert api.endswith("/api/v10")
        assert lines["KIMAKI_DISCORD_GATEWAY_URL"].startswith("ws://127.0.0.1:")
        headers = {"Authorization": f"Bot {lines['token']}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(api + "/users/@me") as resp:
                assert resp.status == 200
                assert (await resp.json())["bot"] is True
            async with http.get(api.removesuffix("/api/v10") + "/") as resp:
                assert "Twin Guild" in await resp.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
    assert code == 0
