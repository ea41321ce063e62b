"""The web client in headless Chromium against the twin and a real discord.py bot: posting,
live updates, code blocks, uploads, typing, threads, kimaki's glyphs, and a screenshot."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from discord_twin import Twin
from tests.twin.helpers import until

from .bot import WebBot
from .browser import open_client
from .pngs import solid_png

WAIT_MS = 10_000
KIMAKI_GLYPHS = ["⬥", "⬦", "┣", "◼︎", "⨯", "»", "⌛"]


async def send(page: Page, text: str) -> None:
    box = page.locator(".composer-input")
    await box.fill(text)
    await box.press("Enter")


async def test_a_message_typed_in_the_page_reaches_the_bot_and_shows(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    box = page.locator(".composer-input")
    await box.fill("hello from the page")
    await box.press("Shift+Enter")
    await box.press_sequentially("second line")
    await box.press("Enter")
    shown = page.locator(".message", has_text="hello from the page")
    await expect(shown).to_be_visible(timeout=WAIT_MS)
    await expect(shown.locator(".message-content")).to_have_text("hello from the page\nsecond line")
    await until(lambda: bot.received.messages, what="the bot's on_message")
    seen = bot.received.messages[0]
    assert seen.content == "hello from the page\nsecond line"
    assert seen.author.id == twin.seed.owner.id
    await expect(box).to_have_value("")

    # Someone else's message arrives through the live feed, without a reload.
    twin.user(twin.seed.owner).send(twin.seed.channel, "posted <b>elsewhere</b>")
    other = page.locator(".message", has_text="posted <b>elsewhere</b>")
    await expect(other).to_be_visible(timeout=WAIT_MS)
    assert await other.locator("b").count() == 0  # shown as text, never as markup


async def test_a_bot_reply_with_a_fenced_block_renders_as_code(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    await send(page, "code please")
    block = page.locator(".from-bot .md-codeblock")
    await expect(block).to_be_visible(timeout=WAIT_MS)
    assert await block.get_attribute("data-language") == "python"
    await expect(block.locator(".md-codeblock-lang")).to_have_text("python")
    code = block.locator("pre > code.language-python")
    assert await code.text_content() == "def greet(name):\n    return f'hi {name}'"
    font = await code.evaluate("el => getComputedStyle(el).fontFamily")
    assert "Mono" in font or "monospace" in font
    reply = page.locator(".from-bot .message-content")
    await expect(reply.locator(".md-p").first).to_have_text("Here it is:")
    await expect(reply.locator(".md-p").last).to_have_text("Done.")


async def test_an_uploaded_image_reaches_the_bot_and_both_files_show(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    png = solid_png(8, 6, (220, 40, 40))
    await open_client(page, twin.url, twin.seed.channel.id)
    await page.locator(".file-input").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": png}]
    )
    await expect(page.locator('.pending-file[data-filename="dot.png"]')).to_be_visible()
    await send(page, "see the picture")

    await until(lambda: bot.received.messages, what="the upload reaching the bot")
    seen = bot.received.messages[0]
    assert seen.content == "see the picture"
    assert [(a.filename, a.content_type) for a in seen.attachments] == [("dot.png", "image/png")]
    assert await seen.attachments[0].read() == png
    await expect(page.locator(".pending-file")).to_have_count(0)

    mine = page.locator('.from-user .attachment.image[data-filename="dot.png"] img')
    await expect(mine).to_be_visible(timeout=WAIT_MS)
    # The bot sent the image back and a text file: the image inline, the file as a card.
    echoed = page.locator('.from-bot .attachment.image[data-filename="echo-dot.png"] img')
    await expect(echoed).to_be_visible(timeout=WAIT_MS)
    assert await echoed.evaluate("img => img.complete && img.naturalWidth") == 8
    card = page.locator('.from-bot .attachment.file[data-filename="notes.txt"]')
    await expect(card).to_be_visible()
    href = await card.locator("a.attachment-download").get_attribute("href")
    assert href is not None and href.endswith("/notes.txt")
    body = await page.evaluate("url => fetch(url).then(r => r.text())", href)
    assert body == "line one\nline two\n"


async def test_the_bot_typing_shows_until_it_posts(page: Page, twin: Twin, bot: WebBot) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    await send(page, "typing please")
    typing = page.locator(".typing")
    await expect(typing).to_have_text("•••kimaki is typing…", timeout=WAIT_MS)
    # A message from the typist ends the indicator at once, as in Discord.
    await bot.get_channel(twin.seed.channel.id).send("done typing")  # type: ignore[union-attr]
    await expect(typing).to_have_text("", timeout=WAIT_MS)


async def test_threads_open_from_the_list_with_code_buttons_and_glyphs(
    page: Page, twin: Twin, bot: WebBot, artifacts: Path
) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    await send(page, "please fix the flaky test")
    link = page.locator(
        f'.thread-list[data-parent-id="{twin.seed.channel.id}"] a', has_text="Fix the flaky test"
    )
    await expect(link).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator(".thread-chip")).to_contain_text("Fix the flaky test")
    await link.click()
    await expect(page.locator(".channel-title")).to_contain_text("Fix the flaky test")
    await expect(page.locator(".md-codeblock")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator(".button.success", has_text="Accept")).to_be_visible()
    await expect(page.locator('.select[data-custom-id="model"]')).to_be_visible()
    # The thread opens with the message it was made from; the bot's two messages form a group.
    await expect(page.locator(".message").first).to_contain_text("please fix the flaky test")
    await expect(page.locator(".message.grouped")).to_have_count(1)

    glyphs = await page.evaluate(GLYPH_PROBE, KIMAKI_GLYPHS)
    assert glyphs["tofuStable"], "two missing code points should draw the same box"
    for glyph in glyphs["glyphs"]:
        assert glyph["ink"], f"{glyph['text']!r} drew nothing"
        assert not glyph["tofu"], f"{glyph['text']!r} drew the missing-glyph box"
    await page.screenshot(path=str(artifacts / "webclient-thread.png"))

    # The composer now posts into the thread.
    thread = twin.threads(twin.seed.channel)[0]
    await send(page, "thanks!")
    await until(lambda: any(m.content == "thanks!" for m in bot.received.messages))
    said = next(m for m in bot.received.messages if m.content == "thanks!")
    assert said.channel.id == thread.id


# Draw each glyph in the message text's own font stack, and a code point no font has; a glyph
# the fonts lack draws exactly that box (or nothing).
GLYPH_PROBE = """
async (glyphs) => {
  const family = getComputedStyle(document.querySelector(".message-content")).fontFamily;
  await document.fonts.load(`40px ${family}`, glyphs.join(""));
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const draw = (text) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = `40px ${family}`;
    ctx.fillText(text, 8, 48);
    return ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3).join(",");
  };
  const tofu = draw("\\u{10FFFD}");
  return {
    tofuStable: tofu === draw("\\u{10FFFC}"),
    glyphs: glyphs.map((text) => {
      const pixels = draw(text);
      return { text, ink: /[1-9]/.test(pixels), tofu: pixels === tofu };
    }),
  };
}
"""


async def test_after_a_dropped_feed_the_page_catches_up_and_marks_unread(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    seed = twin.seed
    other = twin.create_channel(seed.guild, "other")
    await open_client(page, twin.url, seed.channel.id)
    await page.evaluate("twinApp.live.socket.close()")
    twin.user(seed.owner).send(seed.channel, "said while the feed was down")
    twin.user(seed.owner).send(other, "news elsewhere")
    await expect(page.locator(".message", has_text="said while the feed was down")).to_be_visible(
        timeout=WAIT_MS
    )
    await expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=WAIT_MS)
    # A message in a channel you are not looking at marks it, until you open it.
    twin.user(seed.owner).send(other, "more news")
    unread = page.locator(f'.sidebar a.unread[data-channel-id="{other.id}"]')
    await expect(unread).to_be_visible(timeout=WAIT_MS)
    await unread.click()
    await expect(page.locator(".message-content")).to_have_text(["news elsewhere", "more news"])
    await expect(unread).to_have_count(0)
