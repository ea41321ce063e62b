"""Slash commands, buttons, select menus and modals used from the web client, checked on
both ends: what the page shows and what the real discord.py bot received."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from discord_twin import Twin
from tests.twin.helpers import until

from .bot import WebBot
from .browser import open_client

WAIT_MS = 10_000


async def open_command(page: Page, typed: str, name: str) -> Locator:
    """Type `/…` in the composer and pick `name` from the list; returns its form."""
    await page.locator(".composer-input").fill(typed)
    option = page.locator(f'.command-option[data-command="{name}"]')
    await expect(option).to_be_visible(timeout=WAIT_MS)
    await option.click()
    form = page.locator(f'.command-form[data-command="{name}"]')
    await expect(form).to_be_visible()
    return form


async def test_slash_command_with_choices_lists_options_and_runs(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    await page.locator(".composer-input").fill("/")
    listed = page.locator(".command-option")
    await expect(listed).to_have_count(5, timeout=WAIT_MS)
    names = await listed.evaluate_all("rows => rows.map(r => r.dataset.command)")
    assert names == ["feedback", "find", "pick", "secret", "slow"]
    await expect(page.locator('.command-option[data-command="find"]')).to_contain_text(
        "languagecount"
    )

    await page.locator(".composer-input").fill("/pi")
    await expect(listed).to_have_count(1)
    await page.locator(".composer-input").press("Enter")  # picks the highlighted command
    form = page.locator('.command-form[data-command="pick"]')
    fruit = form.locator('select[name="fruit"]')
    labels = await fruit.locator("option").all_text_contents()
    assert labels == ["Choose…", "Apple", "Banana"]
    await fruit.select_option("banana")
    await fruit.press("Enter")

    answer = page.locator(".message", has_text="you picked banana")
    await expect(answer).to_be_visible(timeout=WAIT_MS)
    await expect(answer.locator(".message-context")).to_have_text("owner used /pick")
    assert bot.received.commands == [("pick", {"fruit": "banana"})]
    await expect(form).to_have_count(0)


async def test_autocomplete_asks_the_bot_and_the_choice_is_sent(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    form = await open_command(page, "/fi", "find")
    language = form.locator('input[name="language"]')
    await language.press_sequentially("py")
    choices = form.locator(".autocomplete-option")
    await expect(choices).to_have_text(["lang: python", "lang: pycon"], timeout=WAIT_MS)
    assert bot.received.autocomplete[-1] == "py"
    await choices.first.click()
    await expect(language).to_have_value("lang: python")
    await form.locator('input[name="count"]').fill("2")
    await form.locator('input[name="count"]').press("Enter")
    await expect(page.locator(".message", has_text="found python ×2")).to_be_visible(
        timeout=WAIT_MS
    )
    assert bot.received.commands == [("find", {"language": "python", "count": 2})]


async def test_ephemeral_and_deferred_answers(page: Page, twin: Twin, bot: WebBot) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    form = await open_command(page, "/sec", "secret")
    await form.locator(".command-send").click()
    secret = page.locator(".message.ephemeral", has_text="a secret for you")
    await expect(secret).to_be_visible(timeout=WAIT_MS)
    await expect(secret.locator(".ephemeral-note")).to_have_text("Only you can see this")

    form = await open_command(page, "/slo", "slow")
    await form.locator(".command-send").click()
    thinking = page.locator(".message.loading .thinking")
    await expect(thinking).to_contain_text("kimaki is thinking", timeout=WAIT_MS)
    bot.release.set()
    done = page.locator(".message", has_text="done thinking")
    await expect(done).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator(".message.loading")).to_have_count(0)
    await expect(done.locator(".message-context")).to_have_text("owner used /slow")


async def test_buttons_selects_and_a_modal_reach_the_bot(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    await open_client(page, twin.url, twin.seed.channel.id)
    await page.locator(".composer-input").fill("buttons please")
    await page.locator(".composer-input").press("Enter")
    prompt = page.locator(".message", has_text="Allow bash?")
    await expect(prompt.locator(".components")).to_be_visible(timeout=WAIT_MS)

    await prompt.locator('button[data-custom-id="accept"]').click()
    await expect(page.locator(".message", has_text="⬥ accepted")).to_be_visible(timeout=WAIT_MS)
    assert bot.received.clicks == ["accept"]

    model = prompt.locator('.select[data-custom-id="model"]')
    await model.locator(".select-face").click()
    await expect(model.locator(".select-option")).to_have_count(2)
    await expect(model.locator(".select-option-description").first).to_have_text("quick answers")
    await model.locator('.select-option[data-value="smart"]').click()
    await expect(page.locator(".message", has_text="model: smart")).to_be_visible(timeout=WAIT_MS)
    assert bot.received.picks == [("model", ["smart"])]

    tools = prompt.locator('.select[data-custom-id="tools"]')
    await tools.locator(".select-face").click()
    await tools.locator('.select-option[data-value="read"]').click()
    await tools.locator('.select-option[data-value="bash"]').click()
    await expect(tools.locator(".select-value")).to_have_text("read, bash")
    await page.locator(".chat-header").click()  # closing the menu sends the picks
    await expect(page.locator(".message", has_text="tools: read, bash")).to_be_visible(
        timeout=WAIT_MS
    )
    assert bot.received.picks[-1] == ("tools", ["read", "bash"])

    await prompt.locator('button[data-custom-id="deny"]').click()
    modal = page.locator(".modal")
    await expect(modal.locator(".modal-title")).to_contain_text("Tell kimaki why", timeout=WAIT_MS)
    await expect(modal.locator('[data-custom-id="reason"]')).to_have_attribute(
        "placeholder", "what should change?"
    )
    await modal.locator('[data-custom-id="reason"]').fill("too risky")
    await modal.locator('textarea[data-custom-id="details"]').fill("run it in a sandbox\nfirst")
    await modal.locator('button[type="submit"]').click()
    await expect(modal).to_have_count(0, timeout=WAIT_MS)
    await expect(page.locator(".message", has_text="denied: too risky")).to_be_visible(
        timeout=WAIT_MS
    )
    assert bot.received.modals == [{"reason": "too risky", "details": "run it in a sandbox\nfirst"}]
    assert bot.received.clicks == ["accept", "deny"]


async def test_a_component_the_bot_ignores_says_the_interaction_failed(
    page: Page, twin: Twin, bot: WebBot
) -> None:
    assert twin.seed is not None
    twin.ops.interaction_deadline = 0.3  # the bot never answers this button: no need to wait 3 s
    message, _ = twin.ops.post_message(
        twin.seed.channel,
        twin.seed.bot.id,
        content="nobody listens",
        components=[
            {"type": 1, "components": [{"type": 2, "style": 2, "label": "Poke", "custom_id": "x"}]}
        ],
    )
    await open_client(page, twin.url, twin.seed.channel.id)
    shown = page.locator(f'.message[data-message-id="{message.id}"]')
    await shown.locator('button[data-custom-id="x"]').click()
    await expect(shown.locator(".interaction-failed")).to_contain_text(
        "This interaction failed", timeout=WAIT_MS
    )
    await until(lambda: twin.store.interactions, what="the click reaching the twin")
