"""The web client's markdown renderer, run in Chromium on the page's own module: Discord's
common cases become the right elements, and nothing in a message becomes markup."""

from __future__ import annotations

import re

from playwright.async_api import Page

from discord_twin import Twin

RENDER = """
async (cases) => {
  const { renderMarkdown } = await import("/_twin/static/markdown.js");
  const names = { user: { 1: "alice" }, channel: { 2: "general" }, role: { 3: "admins" } };
  const ctx = {
    user: (id) => names.user[id] ?? null,
    channel: (id) => names.channel[id] ?? null,
    role: (id) => names.role[id] ?? null,
    openChannel() {},
  };
  return cases.map((text) => renderMarkdown(text, ctx).innerHTML);
}
"""

P = '<div class="md-p">{}</div>'
LINK = '<a class="md-link" href="{0}" target="_blank" rel="noopener noreferrer">{1}</a>'
CASES = {
    "**bold** *it* _it_ __under__ ~~gone~~ ***both***": P.format(
        "<strong>bold</strong> <em>it</em> <em>it</em> <u>under</u> <s>gone</s> "
        "<strong><em>both</em></strong>"
    ),
    "snake_case_name stays": P.format("snake_case_name stays"),
    r"\*not italic\*": P.format("*not italic*"),
    "`a <b>` and ``x ` y``": P.format(
        '<code class="md-code">a &lt;b&gt;</code> and <code class="md-code">x ` y</code>'
    ),
    "```py\nprint('<hi>')\n```": (
        '<div class="md-codeblock" data-language="py"><div class="md-codeblock-lang">py</div>'
        "<pre><code class=\"language-py\">print('&lt;hi&gt;')</code></pre></div>"
    ),
    "```\n# not a heading\n- nor a list\n```": (
        '<div class="md-codeblock" data-language=""><pre><code># not a heading\n- nor a list'
        "</code></pre></div>"
    ),
    "[docs](https://example.com/a) <https://example.com/b> https://example.com/c.": P.format(
        LINK.format("https://example.com/a", "docs")
        + " "
        + LINK.format("https://example.com/b", "https://example.com/b")
        + " "
        + LINK.format("https://example.com/c", "https://example.com/c")
        + "."
    ),
    "[bad](javascript:alert(1))": P.format("[bad](javascript:alert(1))"),
    "> quoted\n> two\nafter": (
        '<blockquote class="md-quote"><div class="md-p">quoted\ntwo</div></blockquote>'
        + P.format("after")
    ),
    ">>> all\nof this": (
        '<blockquote class="md-quote"><div class="md-p">all\nof this</div></blockquote>'
    ),
    "# One\n## Two\n### Three\n#### four": (
        '<h1 class="md-heading">One</h1><h2 class="md-heading">Two</h2>'
        '<h3 class="md-heading">Three</h3>' + P.format("#### four")
    ),
    "- a\n  - nested\n1. one\n2. two": (
        '<ul class="md-list"><li>a<ul class="md-list"><li>nested</li></ul></li></ul>'
        '<ol class="md-list" start="1"><li>one</li><li>two</li></ol>'
    ),
    "-# small print": '<div class="md-subtext">small print</div>',
    "||hidden|| shown": P.format(
        '<span class="md-spoiler" title="spoiler" tabindex="0">hidden</span> shown'
    ),
    "<@1> <#2> <@&3> <#9>": P.format(
        '<span class="md-mention">@alice</span> '
        '<span class="md-mention md-channel" data-channel-id="2">#general</span> '
        '<span class="md-mention">@admins</span> '
        '<span class="md-mention md-channel" data-channel-id="9">#unknown</span>'
    ),
    "<t:1700000000:D>": P.format(
        '<time class="md-timestamp" datetime="2023-11-14T22:13:20.000Z" title="">'
        "November 14, 2023</time>"
    ),
    "<img src=x onerror=alert(1)> & <script>x</script>": P.format(
        "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;script&gt;x&lt;/script&gt;"
    ),
}


async def test_markdown_cases(page: Page, twin: Twin) -> None:
    await page.goto(twin.url + "/")
    rendered = await page.evaluate(RENDER, list(CASES))
    for (text, expected), got in zip(CASES.items(), rendered, strict=True):
        # A timestamp's tooltip wording follows Chromium's ICU version: compare it apart.
        assert re.sub(r'title="[^"]*, 2023[^"]*"', 'title=""', got) == expected, f"{text!r}"


async def test_relative_and_default_timestamps(page: Page, twin: Twin) -> None:
    await page.goto(twin.url + "/")
    relative, default = await page.evaluate(RENDER, ["<t:0:R>", "<t:1700000000>"])
    assert "years ago</time>" in relative
    assert re.search(r">November 14, 2023\D+10:13\sPM</time>", default), default
