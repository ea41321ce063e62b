"""`kimaki demo` end to end: the command as a person runs it, with the scripted model configured
as "their" OpenCode (an isolated HOME and XDG world), driven from the page it prints.

Writes the README's screenshot when KIMAKI_WRITE_DOCS=1 (`docs/kimaki-demo.png`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from playwright.async_api import Page, ViewportSize, expect

from kimaki.demo.models import NO_MODEL
from kimaki.opencode.server_record import StopPolicy, reap_orphan
from scripted_model import ScriptedModel, read, text, write
from tests.bot.test_asks_e2e import ask_for_env_reads
from tests.support.kimaki_process import KIMAKI
from tests.support.processes import opencode_processes_under
from tests.support.world import World, opencode_binary

from .test_kimaki_page import GREET_CODE, bot_message, send

WAIT_MS = 60_000
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "kimaki-demo.png"
VIEWPORT: ViewportSize = {"width": 1200, "height": 620}  # the conversation, little else
URL = re.compile(r"http://127\.0\.0\.1:\d+/\S*")
# One turn that writes code, shows it, then needs a permission: what the README shows.
ASK = "add a greet(name) helper to hello.py, then check how the app gets its token"
WRITING = (
    f"I'll add `greet` to **hello.py**:\n```python\n{GREET_CODE}\n```\n"
    "Then I'll look at where the app gets its token."
)
FOUND = "The token comes from `.env` (`TOKEN`): hello.py can read it at start."


class Demo:
    """A `kimaki demo` process: stdout read line by line, stderr to a file."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self.stdout: list[str] = []

    async def url(self, timeout: float = 120) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while raw := await self.proc.stdout.readline():
                self.stdout.append(raw.decode())
                if found := URL.search(self.stdout[-1]):
                    return found.group(0)
        raise AssertionError(f"kimaki demo printed no URL:\n{self.output()}")

    async def finish(self, timeout: float = 60) -> int:
        assert self.proc.stdout is not None
        out = await asyncio.wait_for(self.proc.stdout.read(), timeout)
        self.stdout.append(out.decode())
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def output(self) -> str:
        return "".join(self.stdout) + self.stderr.read_text()


@contextlib.asynccontextmanager
async def kimaki_demo(env: dict[str, str], tmp: Path, *args: str) -> AsyncIterator[Demo]:
    """Start `kimaki demo ARGS…` with its temporary files under `tmp`; kill it if left running."""
    stderr = tmp / "demo.stderr"
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            KIMAKI,
            "demo",
            *args,
            env={**env, "TMPDIR": str(tmp)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    demo = Demo(proc, stderr)
    try:
        yield demo
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await asyncio.to_thread(reap_servers, tmp)


def data_dirs(tmp: Path) -> list[Path]:
    """The demo's temporary data dirs under `tmp` (its TMPDIR)."""
    return sorted(tmp.glob("kimaki-demo-*"))


def reap_servers(tmp: Path) -> None:
    """Stop an OpenCode server a failed test's demo left running (as its record says)."""
    for data_dir in data_dirs(tmp):
        reap_orphan(data_dir / "opencode-server.json", StopPolicy(first_wait=2, second_wait=1))


def demo_env(world: World) -> dict[str, str]:
    """The person's environment: their OpenCode world, and no kimaki settings of their own."""
    return world.full_env({"KIMAKI_OPENCODE_BIN": str(opencode_binary())})


async def status_of(method: str, url: str, origin: str | None = None) -> int:
    headers = {"Origin": origin} if origin else {}
    body: dict[str, str] | None = {} if method == "POST" else None
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, json=body, headers=headers) as resp,
    ):
        return resp.status


async def test_kimaki_demo_serves_a_conversation_and_stops_clean(
    page: Page, world: World, scripted_model: ScriptedModel, tmp_path: Path, artifacts: Path
) -> None:
    project = world.make_project("my-app")
    ask_for_env_reads(project)
    hello = project / "hello.py"
    # The read waits until the page shows the code: with a model this fast, the permission
    # prompt would otherwise be posted before the text that precedes it has been mirrored.
    code_shown = asyncio.Event()
    steps = [
        text(WRITING) + write(str(hello), GREET_CODE + "\n"),
        read(str(project / ".env")).held(code_shown),
        text(FOUND),
    ]
    rule = scripted_model.add_rule(ASK, steps, title="Add a greet helper")
    env = demo_env(world)
    try:
        async with kimaki_demo(env, tmp_path, str(project)) as demo:
            url = await demo.url()
            made = data_dirs(tmp_path)
            assert len(made) == 1 and oct(made[0].stat().st_mode & 0o777) == "0o700"
            server = opencode_processes_under(tmp_path)
            assert server, "the demo's OpenCode server runs in its temporary data dir"

            # The twin's control API would let any local page act as anyone: it is not there.
            base = url.split("/#", 1)[0]
            assert await status_of("GET", f"{base}/_twin/state") == 404
            assert await status_of("POST", f"{base}/_twin/act/1/messages", origin=base) == 404

            await page.set_viewport_size(VIEWPORT)
            await page.goto(url)
            await page.wait_for_selector('body[data-live="1"]', timeout=10_000)
            await expect(page.locator(".sidebar a.active")).to_contain_text("my-app")
            await send(page, ASK)
            link = page.locator(".thread-list a", has_text="greet")
            await expect(link).to_be_visible(timeout=WAIT_MS)
            await link.click()
            code = bot_message(page, "add greet").locator(".md-codeblock code")
            await expect(code).to_have_text(GREET_CODE, timeout=WAIT_MS)
            await expect(bot_message(page, "write hello.py")).to_be_visible(timeout=WAIT_MS)
            code_shown.set()
            prompt = bot_message(page, "Permission needed")
            accept = prompt.locator("button", has_text="Accept once")
            await expect(accept).to_be_visible(timeout=WAIT_MS)
            await expect(page.locator(".channel-title")).to_contain_text("Add a greet helper")
            await page.evaluate("document.fonts.ready")
            await page.screenshot(path=str(artifacts / "kimaki-demo.png"))
            if os.environ.get("KIMAKI_WRITE_DOCS"):
                await page.screenshot(path=str(DOCS_SCREENSHOT))
            await accept.click()
            await expect(bot_message(page, "hello.py can read it at start")).to_be_visible(
                timeout=WAIT_MS
            )

            demo.proc.send_signal(signal.SIGTERM)
            assert await demo.finish() == 0, demo.output()
            printed = URL.findall("".join(demo.stdout))
            assert printed == [url], "stdout carries the one URL; logs go to stderr"
            assert opencode_processes_under(tmp_path) == []
            assert data_dirs(tmp_path) == []
            assert not (Path(env["HOME"]) / ".kimaki").exists()
    finally:
        code_shown.set()
        scripted_model.remove_rule(rule)


async def test_kimaki_demo_without_a_model_says_what_to_do(tmp_path: Path) -> None:
    """An OpenCode with no provider (OpenCode's own free one switched off) has no model."""
    world = World(tmp_path / "world", "http://127.0.0.1:9/v1")
    world.create_dirs()
    config = Path(world.env["XDG_CONFIG_HOME"]) / "opencode" / "opencode.json"
    config.write_text(json.dumps({"disabled_providers": ["opencode"], "autoupdate": False}))
    project = tmp_path / "empty-project"
    project.mkdir()
    async with kimaki_demo(demo_env(world), tmp_path, str(project)) as demo:
        assert await demo.finish(timeout=120) == 1
        assert f"kimaki demo: {NO_MODEL}" in demo.stderr.read_text().splitlines()
        assert "".join(demo.stdout) == ""
        assert data_dirs(tmp_path) == []
        assert opencode_processes_under(tmp_path) == []
