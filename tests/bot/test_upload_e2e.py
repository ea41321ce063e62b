"""Files out: the agent runs `kimaki upload` in its own bash tool, as kimaki's system text
tells it to, and the files appear in the thread once; a file over Discord's limit is
refused with a line in the thread and in the command's output. A file a tool returns
(an image `webfetch` fetched) is posted too; one `read` looked at is not."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

from aiohttp import web

from kimaki.opencode.models import ToolPart
from scripted_model import ScriptedModel, bash, read, text, tool, tools
from scripted_model.rules import system_text
from tests.support.kimaki_app import StartKimaki
from tests.unit.test_attachments import png

TIMEOUT = 90
HINT = re.compile(r"run `(?P<command>[^`]+) PATH\.\.\.`")


@contextlib.asynccontextmanager
async def serving(path: str, body: bytes, content_type: str) -> AsyncIterator[str]:
    """A loopback web server answering `path` (for the agent's webfetch); its base URL."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get(path, answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_the_agent_uploads_files_with_the_command_kimaki_gave_it(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin = running.twin
    scripted_model.add_rule("up-first", [text("Ready.")])
    thread, record = await running.open_thread("up-first hello")
    first = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and "up-first" in r.prompt, timeout=TIMEOUT
    )
    hint = HINT.search(system_text(first.messages))
    assert hint is not None, system_text(first.messages)[-400:]
    command = hint["command"]
    assert f"--session {record.session_id}" in command
    await twin.wait_for_message(lambda m: "Ready." in m.content, channel=thread, timeout=TIMEOUT)

    (running.project / "shot.png").write_bytes(png(16, 9))
    (running.project / "report.txt").write_text("all green\n")
    script = f"{command} shot.png report.txt; truncate -s 11M big.bin; {command} big.bin"
    scripted_model.add_rule("up-send", [bash(script), text("Sent them.")])
    twin.user(running.owner).send(thread, "up-send the results")
    posted = await twin.wait_for_message(
        lambda m: bool(m.attachments), channel=thread, timeout=TIMEOUT
    )
    assert [a.filename for a in posted.attachments] == ["shot.png", "report.txt"]
    assert [a.data for a in posted.attachments] == [png(16, 9), b"all green\n"]
    await twin.wait_for_message(
        lambda m: "Sent them." in m.content, channel=thread, timeout=TIMEOUT
    )

    refused = "not posted: big.bin: 11.0 MB is more than Discord's 10.0 MB upload limit"
    assert any(refused in m.content for m in twin.messages(thread))
    assert sum(1 for m in twin.messages(thread) if m.attachments) == 1, "posted exactly once"
    messages = await running.app.opencode.all_messages(record.session_id, str(running.project))
    (call,) = [p for m in messages for p in m.parts if isinstance(p, ToolPart)]
    output = call.state.output or ""
    assert "posted to the thread: shot.png, report.txt" in output
    assert refused in output

    async with serving("/chart.png", png(12, 7), "image/png") as base:
        fetch = tool("webfetch", url=f"{base}/chart.png", format="markdown")
        scripted_model.add_rule("up-fetch", [tools(fetch, read("shot.png"))])
        twin.user(running.owner).send(thread, "up-fetch the chart")
        fetched = await twin.wait_for_message(
            lambda m: any(a.filename == "webfetch-1.png" for a in m.attachments),
            channel=thread,
            timeout=TIMEOUT,
        )
    # The step after the tools (its prompt is OpenCode's note about the image, so the
    # scripted model echoes it) comes after both tools finished: read's file had its turn.
    await twin.wait_for_message(
        lambda m: m.id > fetched.id and m.content.startswith("⬥ ok:"),
        channel=thread,
        timeout=TIMEOUT,
    )
    files = [(a.filename, a.data) for m in twin.messages(thread) for a in m.attachments]
    assert files[2:] == [("webfetch-1.png", png(12, 7))], "the fetched image; not read's"
