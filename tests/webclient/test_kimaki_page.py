"""kimaki used from the web client, as `kimaki demo` shows it: headless Chromium on the twin's
page, a real kimaki in-process, the real OpenCode and the scripted model. (`test_demo.py` runs
the `kimaki demo` process itself.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import FilePayload, Locator, Page, ViewportSize, expect

from discord_twin.state import Channel
from kimaki.config import Verbosity
from kimaki.store import ChannelID
from scripted_model import RecordedRequest, ScriptedModel, read, text, write
from tests.bot.test_asks_e2e import ask_for_env_reads
from tests.bot.test_attachments_e2e import use_vision_model
from tests.support.kimaki_app import Running, StartKimaki

from .browser import open_client
from .pngs import solid_png
from .test_interactions import open_command

WAIT_MS = 60_000  # a turn of the real OpenCode on a busy machine
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}

GREET_ASK = "add a greet(name) helper to hello.py"
GREET_REPLY = (
    "Added `greet` to **hello.py**:\n"
    "```python\n"
    "def greet(name: str) -> str:\n"
    '    return f"Hello, {name}!"\n'
    "```\n"
    "Try it with `python hello.py`."
)
GREET_CODE = 'def greet(name: str) -> str:\n    return f"Hello, {name}!"'
ENV_ASK = "does the app read its token from .env?"
ENV_REPLY = "Yes: `.env` sets `TOKEN`, and hello.py reads it at start."


async def send(page: Page, words: str) -> None:
    box = page.locator(".composer-input")
    await box.fill(words)
    await box.press("Enter")


async def open_new_thread(page: Page, running: Running, name_part: str) -> Channel:
    """Wait for kimaki's thread under the project channel, then open it from the sidebar."""
    link = page.locator(
        f'.thread-list[data-parent-id="{running.channel.id}"] a', has_text=name_part
    )
    await expect(link).to_be_visible(timeout=WAIT_MS)
    await link.click()
    await expect(page.locator(".channel-title")).to_contain_text(name_part)
    return running.twin.threads(running.channel)[-1]


def bot_message(page: Page, words: str) -> Locator:
    return page.locator(".message.from-bot", has_text=words)


async def test_a_conversation_with_code_and_an_accepted_permission(
    page: Page, start_kimaki: StartKimaki, scripted_model: ScriptedModel, artifacts: Path
) -> None:
    running = await start_kimaki(prepare=ask_for_env_reads)
    hello = running.project / "hello.py"
    rules = [
        scripted_model.add_rule(
            GREET_ASK,
            [write(str(hello), GREET_CODE + "\n"), text(GREET_REPLY)],
            title="Add a greet helper",
        ),
        scripted_model.add_rule(ENV_ASK, [read(str(running.project / ".env")), text(ENV_REPLY)]),
    ]
    try:
        await page.set_viewport_size(VIEWPORT)
        await open_client(page, running.twin.url, running.channel.id)
        await send(page, GREET_ASK)
        await open_new_thread(page, running, GREET_ASK)

        # The agent's reply, with its fenced block rendered as code.
        block = bot_message(page, "Added greet").locator(".md-codeblock")
        await expect(block).to_be_visible(timeout=WAIT_MS)
        assert await block.get_attribute("data-language") == "python"
        code = block.locator("pre > code.language-python")
        assert await code.text_content() == GREET_CODE
        assert hello.read_text() == GREET_CODE + "\n"  # the write really ran

        # A follow-up from the page needs a permission: the prompt, its buttons, a click.
        await send(page, ENV_ASK)
        prompt = bot_message(page, "Permission needed")
        accept = prompt.locator("button", has_text="Accept once")
        await expect(accept).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator(".channel-title")).to_contain_text("greet", timeout=WAIT_MS)
        await page.evaluate("document.fonts.ready")
        await page.screenshot(path=str(artifacts / "kimaki-conversation.png"))
        await accept.click()
        await expect(prompt).to_contain_text("Accepted once", timeout=WAIT_MS)
        await expect(prompt.locator("button")).to_have_count(0)
        await expect(bot_message(page, "hello.py reads it at start")).to_be_visible(timeout=WAIT_MS)
    finally:
        for rule in rules:
            scripted_model.remove_rule(rule)


async def test_verbosity_runs_from_the_page(page: Page, start_kimaki: StartKimaki) -> None:
    running = await start_kimaki()
    channel_id = ChannelID(running.channel.id)
    assert running.app.store.channel_settings.verbosity(channel_id) is None
    await open_client(page, running.twin.url, running.channel.id)
    form = await open_command(page, "/verb", "verbosity")
    level = form.locator('select[name="level"]')
    choices = await level.locator("option").all_text_contents()
    assert choices == ["Choose…", *(v.value for v in Verbosity)]
    await level.select_option(Verbosity.TEXT_ONLY.value)
    await form.locator(".command-send").click()
    answer = bot_message(page, "verbosity is now text_only for this channel")
    await expect(answer).to_be_visible(timeout=WAIT_MS)
    await expect(answer.locator(".message-context")).to_contain_text("used /verbosity")
    assert running.app.store.channel_settings.verbosity(channel_id) is Verbosity.TEXT_ONLY


# How an uploaded image reaches a model that takes images: as an image part of the prompt.
IMAGE_REACHES_THE_MODEL_AS = "image part"


def image_delivery(request: RecordedRequest, filename: str) -> str | None:
    """How the newest user message carried the image: "image part", "link", or None."""
    user = [m for m in request.messages if m.get("role") == "user"]
    content: Any = user[-1].get("content") if user else None
    parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
    if any(p.get("type") in ("image_url", "image", "file") for p in parts):
        return "image part"
    words = " ".join(str(p.get("text") or "") for p in parts)
    if f"Attached file {filename}: http" in words:
        return "link"
    return None


async def test_an_uploaded_image_shows_in_the_thread_and_reaches_the_agent(
    page: Page, start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=use_vision_model)
    marker = f"{running.project.name}-image"
    rule = scripted_model.add_rule(marker, [text(f"Got the picture {marker}.")])
    png = solid_png(12, 8, (40, 120, 220))
    try:
        await open_client(page, running.twin.url, running.channel.id)
        upload: FilePayload = {"name": "dot.png", "mimeType": "image/png", "buffer": png}
        await page.locator(".file-input").set_input_files(files=[upload])
        await send(page, f"{marker} what is in this picture?")
        await open_new_thread(page, running, marker)
        # The thread starts with the message it was made from: the image inline.
        image = page.locator('.message .attachment.image[data-filename="dot.png"] img')
        await expect(image).to_be_visible(timeout=WAIT_MS)
        assert await image.evaluate("img => img.complete && img.naturalWidth") == 12
        await expect(bot_message(page, f"Got the picture {marker}.")).to_be_visible(timeout=WAIT_MS)

        request = await scripted_model.wait_for_request(
            lambda r: r.kind == "turn" and marker in r.prompt
        )
        assert image_delivery(request, "dot.png") == IMAGE_REACHES_THE_MODEL_AS
        (image,) = request.attachments
        assert image.data == png  # small enough: passed as it was uploaded
    finally:
        scripted_model.remove_rule(rule)
