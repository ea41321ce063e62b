"""Throwaway scaffolding for the scripted model's end-to-end tests: an isolated OpenCode world.

Kept local on purpose (the project's shared bench fixtures live elsewhere). A uniquely named
module rather than conftest.py, so importing it cannot pick up another directory's conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from scripted_model import opencode_provider_config

REPO = Path(__file__).resolve().parents[2]
OPENCODE = REPO / "node_modules" / ".bin" / "opencode"
VENV_BIN = REPO / ".venv" / "bin"
T = TypeVar("T")


@dataclass
class World:
    """A temp HOME/XDG tree plus a git project whose opencode.json points at the model."""

    root: Path
    project: Path
    env: dict[str, str]


def make_world(root: Path, base_url: str) -> World:
    home = root / "home"
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_SHARE": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        path = home / f".xdg-{name.lower()}"
        path.mkdir(parents=True)
        env[f"XDG_{name}_HOME"] = str(path)
    project = root / "project"
    project.mkdir()
    config = {**opencode_provider_config(base_url), "permission": {"*": "allow"}}
    (project / "opencode.json").write_text(json.dumps(config, indent=2))
    (project / "hello.txt").write_text("hello from the project\n")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=project, env=env, check=True)
    return World(root, project, env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Poll ``check`` until it returns something other than None (or time runs out)."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result is not None:
                return result
            await asyncio.sleep(0.1)


class OpencodeServer:
    """``opencode serve`` in its own process group, so stopping it also ends its children."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = world.root / "opencode-serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        cmd = [str(OPENCODE), "serve", "--port", str(self.port), "--hostname", "127.0.0.1"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.world.project,
                env=self.world.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def start(self, http: aiohttp.ClientSession) -> None:
        """Spawn, wait for the "listening" line, then for /global/health (see the reference)."""
        self.spawn()

        async def listening() -> bool | None:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"opencode exited: {self.log.read_text()}")
            return True if "server listening" in self.log.read_text() else None

        async def healthy() -> bool | None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                timeout = aiohttp.ClientTimeout(total=2)
                async with http.get(f"{self.url}/global/health", timeout=timeout) as r:
                    return True if r.status == 200 else None
            return None

        await eventually(listening, timeout=30)
        await eventually(healthy, timeout=15)

    def stop(self) -> None:
        """SIGTERM, a grace period, SIGTERM again, then SIGKILL, always to our own group."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + grace
            while self.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # stragglers left behind by tools


@dataclass
class Opencode:
    """What an end-to-end test needs: the server, its project, and an HTTP client."""

    server: OpencodeServer
    world: World
    http: aiohttp.ClientSession

    async def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        sep = "&" if "?" in path else "?"
        url = f"{self.server.url}{path}{sep}directory={self.world.project}"
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with self.http.request(method, url, json=body, timeout=client_timeout) as r:
            assert r.status < 400, f"{method} {path}: {r.status} {await r.text()}"
            return await r.json() if r.content_type == "application/json" else await r.text()

    async def new_session(self) -> str:
        session = await self.call("POST", "/session", {})
        return str(session["id"])

    async def prompt(self, session_id: str, words: str, timeout: float = 60) -> Any:
        """Send a prompt and block until OpenCode has answered it."""
        body = {"parts": [{"type": "text", "text": words}]}
        return await self.call("POST", f"/session/{session_id}/message", body, timeout)

    async def messages(self, session_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call("GET", f"/session/{session_id}/message")
        return result
