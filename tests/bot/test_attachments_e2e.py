"""Attachments in, end to end: an image reaches a vision model as an image part (scaled
down), text is inlined, large and binary files are passed by path, a reply brings its
quote, and a file that cannot be downloaded costs one line, not the message."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

from PIL import Image

from scripted_model import VISION_MODEL_ID, RecordedRequest, ScriptedModel, text
from tests.bot.test_sessions import user_texts
from tests.support.kimaki_app import Running, StartKimaki
from tests.unit.test_attachments import png

TIMEOUT = 60


def use_vision_model(project: Path) -> None:
    config_file = project / "opencode.json"
    config = json.loads(config_file.read_text())
    config["model"] = f"scripted/{VISION_MODEL_ID}"
    config_file.write_text(json.dumps(config))


async def turn(scripted_model: ScriptedModel, marker: str) -> RecordedRequest:
    return await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and marker in r.prompt, timeout=TIMEOUT
    )


def saved_path(prompt: str, name: str) -> Path:
    """The path the prompt gives for an attached file."""
    line = next(line for line in prompt.splitlines() if line.startswith(f"Attached file {name} "))
    return Path(line.rsplit("saved at: ", 1)[1])


def bot_said(running: Running, thread_id: int) -> str:
    bot = running.twin.seed.bot.id  # type: ignore[union-attr]
    thread = running.twin.channel(thread_id)
    return "\n".join(m.content for m in running.twin.messages(thread) if m.author_id == bot)


async def test_images_text_and_files_reach_the_agent_and_a_reply_brings_its_quote(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=use_vision_model)
    scripted_model.add_rule("at-look", [text("Looked at all four.")])
    scripted_model.add_rule("at-reply", [text("Replied.")])
    log = "".join(f"line {n}\n" for n in range(9000)).encode()  # ~86 KB: too long to inline
    blob = bytes(range(256)) * 8
    files = {
        "wide.png": png(3000, 1000),
        "notes.md": b"# Notes\nremember the tests\n",
        "build.log": log,
        "blob.bin": blob,
    }
    thread, record = await running.open_thread("at-look at these", files=files)
    request = await turn(scripted_model, "at-look")

    (image,) = request.attachments
    assert (image.kind, image.mime) == ("image", "image/jpeg")
    assert image.data is not None
    assert Image.open(io.BytesIO(image.data)).size == (2000, 667)  # scaled into the box
    assert '<attached-file name="notes.md">\n# Notes\nremember the tests\n</attached-file>' in (
        request.prompt
    )
    for name, data in (("build.log", log), ("blob.bin", blob)):
        path = saved_path(request.prompt, name)
        assert path.read_bytes() == data
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert path.is_relative_to(running.app.config.data_dir / "files" / record.session_id)

    answer = await running.twin.wait_for_message(
        lambda m: "Looked at all four." in m.content, channel=thread, timeout=TIMEOUT
    )
    running.twin.add_http_fault("GET", "/attachments/**", 404)  # the next download fails
    running.twin.user(running.owner).send(
        thread, "at-reply and this?", reply_to=answer, files={"gone.txt": b"never read"}
    )
    request = await turn(scripted_model, "at-reply")
    assert "(In reply to this message from kimaki:)\n> ⬥ Looked at all four." in request.prompt
    await running.twin.wait_for_message(
        lambda m: "Replied." in m.content, channel=thread, timeout=TIMEOUT
    )
    said = bot_said(running, thread.id)
    assert "⬦ could not download gone.txt (Discord answered 404)" in said
    assert (await user_texts(running, record.session_id))[-1].endswith("at-reply and this?")


async def test_a_model_without_image_input_gets_the_path_and_the_thread_is_told_once(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()  # the default scripted model takes text only
    scripted_model.add_rule("nv-one", [text("Read the path.")])
    scripted_model.add_rule("nv-two", [text("Read the second path.")])
    thread, record = await running.open_thread("nv-one see", files={"dot.png": png(8, 8)})
    request = await turn(scripted_model, "nv-one")
    assert request.attachments == []
    path = saved_path(request.prompt, "dot.png")
    assert path.read_bytes() == png(8, 8)
    await running.twin.wait_for_message(
        lambda m: "Read the path." in m.content, channel=thread, timeout=TIMEOUT
    )
    running.twin.user(running.owner).send(thread, "nv-two again", files={"b.png": png(9, 9)})
    await running.twin.wait_for_message(
        lambda m: "Read the second path." in m.content, channel=thread, timeout=TIMEOUT
    )
    said = bot_said(running, thread.id)
    assert said.count("does not take images or PDFs") == 1
    assert "dot.png reached the agent as a file path" in said
    assert len(await user_texts(running, record.session_id)) == 2
