"""Files out: the agent runs `kimaki upload` in its own bash tool, as kimaki's system text
tells it to, and the files appear in the thread once; a file over Discord's limit is
refused with a line in the thread and in the command's output."""

from __future__ import annotations

import re

from kimaki.opencode.models import ToolPart
from scripted_model import ScriptedModel, bash, text
from scripted_model.rules import system_text
from tests.support.kimaki_app import StartKimaki
from tests.unit.test_attachments import png

TIMEOUT = 90
HINT = re.compile(r"run `(?P<command>[^`]+) PATH\.\.\.`")


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
    (tool,) = [p for m in messages for p in m.parts if isinstance(p, ToolPart)]
    output = tool.state.output or ""
    assert "posted to the thread: shot.png, report.txt" in output
    assert refused in output
