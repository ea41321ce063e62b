"""What a thread says around the work itself: footers, notifications, errors, retries.

Twin + real discord.py + real OpenCode + scripted model, in one Discord thread whose
project uses the priced `scripted-vision` model (200k context), so the footer's figures
can be checked against what OpenCode reports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from discord_twin.state import Channel, Message
from kimaki.opencode.models import Message as OpenCodeMessage
from kimaki.render.footer import dollars, duration, percent, tokens
from kimaki.store import ThreadID
from scripted_model import (
    ScriptedModel,
    auth_error,
    bash,
    context_overflow,
    rate_limited,
    text,
    tool_call,
)
from scripted_model.config import PROVIDER_ID, VISION_CONTEXT, VISION_MODEL_ID
from tests.bot.test_asks_e2e import ask_for_env_reads, custom_id, prompt_in
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.transcript import FOOTER, FOOTER_PREFIX, bot_lines, has_footer
from tests.support.waiting import eventually

TIMEOUT = 60
STEPS = 6


def vision_project(project: Path) -> None:
    """The project's sessions answer with the priced vision model; `.env` reads ask."""
    ask_for_env_reads(project)
    config = json.loads((project / "opencode.json").read_text())
    config["model"] = f"{PROVIDER_ID}/{VISION_MODEL_ID}"
    (project / "opencode.json").write_text(json.dumps(config))


async def footers(running: Running, thread: Channel, count: int) -> list[str]:
    """Wait until the thread shows `count` footers and nothing waits to be sent; their lines."""

    async def shown() -> list[str] | None:
        found = footer_lines(running, thread)
        return found if len(found) >= count else None

    found = await eventually(shown, timeout=TIMEOUT, what=f"{count} footer(s)")
    await running.app.bridges.settle([ThreadID(thread.id)])
    await running.app.outbox.flush(ThreadID(thread.id))
    return found


def footer_lines(running: Running, thread: Channel) -> list[str]:
    return [
        line
        for m in running.twin.messages(thread)
        for line in m.content.split("\n")
        if line.startswith(FOOTER_PREFIX)
    ]


def lines_except(running: Running, thread: Channel, skip: Message) -> list[str]:
    """The bot's lines in the thread, without those of `skip` (a prompt, edited when
    answered)."""
    kept = [m for m in running.twin.messages(thread) if m.id != skip.id]
    bot = running.twin.seed.bot.id  # type: ignore[union-attr]
    return [
        FOOTER if line.startswith(FOOTER_PREFIX) else line
        for m in kept
        if m.author_id == bot
        for line in m.content.split("\n")
    ]


async def said(running: Running, thread: Channel, words: str) -> None:
    since = running.twin.cursor()
    running.twin.user(running.owner).send(thread, words)
    await running.twin.wait_for_message(
        lambda m: m.content == words, channel=thread, since=since, timeout=TIMEOUT
    )


async def session_messages(running: Running, thread: Channel) -> list[OpenCodeMessage]:
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None
    return await running.app.opencode.all_messages(record.session_id, str(record.directory))


def expected_footer(messages: list[OpenCodeMessage], prompt_words: str) -> str:
    """The footer computed here from what OpenCode reports for the turn of `prompt_words`."""
    start = next(i for i, m in enumerate(messages) if prompt_words in m.text())
    steps = [m.info for m in messages[start + 1 :] if m.info.role == "assistant"]
    end = steps[-1]
    assert end.completed is not None and end.tokens is not None
    cost = sum(s.cost or 0.0 for s in steps)
    used = end.tokens.context
    share = 100 * used / VISION_CONTEXT
    took = duration(end.completed - messages[start].info.created)
    return (
        f"-# ⬦ {took} · {VISION_MODEL_ID} · build · "
        f"context {tokens(used)}/{tokens(VISION_CONTEXT)} ({percent(share)}) · {dollars(cost)}"
    )


async def test_footers_notifications_errors_retries_and_overflow_in_one_thread(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(prepare=vision_project)
    twin = running.twin
    assert twin.seed is not None
    secret = running.project / ".env"
    marker = running.project.name
    work = [text(f"tl step {n}.") + bash(f"echo tl-{n}") for n in range(STEPS)]
    scripted_model.add_rule(
        f"{marker}-work",
        [
            *work,
            (text("tl reading the secret.") + tool_call("read", filePath=str(secret))).with_usage(
                1000, 50, cached_tokens=200, reasoning_tokens=10
            ),
            text("tl all done.").with_usage(1500, 40),
        ],
    )

    # 1. Many parts, a permission prompt, the end: few messages, the prompt after what
    # preceded it, and only the prompt and the footer notify.
    thread, _ = await running.open_thread(f"{marker}-work please")
    prompt = await prompt_in(running, thread, "Permission needed")
    before_prompt = [m for m in twin.messages(thread) if m.id < prompt.id]
    assert "tl reading the secret." in "\n".join(m.content for m in before_prompt)
    assert len(before_prompt) == 1, "the steps' parts share one message, grown by edits"
    click = twin.user(running.owner).click(prompt, custom_id(prompt, ":once"))
    await click.wait_response(timeout=TIMEOUT)
    (footer,) = await footers(running, thread, 1)
    assert footer == expected_footer(await session_messages(running, thread), f"{marker}-work")
    steps = [line for n in range(STEPS) for line in (f"⬥ tl step {n}.", f"┣ bash `echo tl-{n}`")]
    assert lines_except(running, thread, prompt) == [
        *steps,
        "⬥ tl reading the secret.",
        "⬥ tl all done.",
        FOOTER,
    ]
    notifying = [
        w.message_id for w in twin.message_writes(thread, author=twin.seed.bot) if w.notifies
    ]
    footer_message = next(m for m in twin.messages(thread) if has_footer(m))
    assert notifying == [prompt.id, footer_message.id]

    # 2. A provider refusing the key: one plain line, which notifies; no footer.
    scripted_model.add_rule(f"{marker}-auth", [auth_error()])
    since = twin.cursor()
    await said(running, thread, f"{marker}-auth again")
    refused = await twin.wait_for_message(
        lambda m: "refused the API key" in m.content,
        channel=thread,
        since=since,
        timeout=TIMEOUT,
        edits=True,
    )
    await running.app.bridges.settle([ThreadID(thread.id)])
    await running.app.outbox.flush(ThreadID(thread.id))
    line = (
        f"✗ {PROVIDER_ID} refused the API key (HTTP 401): Incorrect API key provided. "
        "Check the key OpenCode uses"
    )
    assert bot_lines(twin, thread).count(line) == 1
    assert len(footer_lines(running, thread)) == 1
    bot = twin.seed.bot
    assert [
        w.message_id for w in twin.message_writes(thread, author=bot, since=since) if w.notifies
    ] == [refused.id], twin.render(thread)

    # 3. A rate limit retried twice: one notice, replaced; then the answer and its footer.
    scripted_model.add_rule(
        f"{marker}-limit", [rate_limited(text("tl answered after the limit."), times=2)]
    )
    since = twin.cursor()
    await said(running, thread, f"{marker}-limit now")
    await footers(running, thread, 2)
    retries = [m for m in twin.messages(thread) if "OpenCode retries" in m.content]
    assert len(retries) == 1 and "(attempt 2)" in retries[0].content, twin.render(thread)
    kinds = [
        w.kind for w in twin.message_writes(thread, since=since) if w.message_id == retries[0].id
    ]
    assert kinds == ["create", "edit"]
    assert re.fullmatch(
        r"⬦ Rate limit reached: OpenCode retries (in \d s|now) \(attempt 2\); /abort stops it",
        retries[0].content,
    )
    assert bot_lines(twin, thread)[-3:] == [
        retries[0].content,
        "⬥ tl answered after the limit.",
        FOOTER,
    ]
    writes = twin.message_writes(thread, author=bot, since=since)
    assert [w.message_id for w in writes if w.notifies] == [
        next(m.id for m in twin.messages(thread) if has_footer(m) and m.id > retries[0].id)
    ]

    # 4. A context overflow: one line per compaction OpenCode made (the scripted model
    # refuses the replayed prompt once more, so OpenCode compacts twice and then asks to
    # go on); OpenCode's summaries of the conversation are not posted.
    scripted_model.add_rule(f"{marker}-over", [context_overflow()])
    await said(running, thread, f"{marker}-over too much")
    await footers(running, thread, 3)
    lines = bot_lines(twin, thread)
    overflow = [line for line in lines if line.startswith("⬦ context overflow")]
    compactions = [
        p
        for m in await session_messages(running, thread)
        for p in m.parts
        if p.type == "compaction" and p.raw.get("overflow") is True
    ]
    assert len(overflow) == len(compactions) >= 1, twin.render(thread)
    assert not any("scripted summary" in line for line in lines), twin.render(thread)
    assert lines[-1] == FOOTER
    writes = twin.message_writes(thread)
    assert all(not w.notifies for w in writes if w.kind == "edit")
