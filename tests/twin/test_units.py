"""Pieces of the twin that need no discord.py client."""

from __future__ import annotations

import asyncio
import struct

import pytest

from discord_twin import Twin
from discord_twin.events import EventLog
from discord_twin.faults import Faults, HTTPFault
from discord_twin.ratelimit import RateLimiter
from discord_twin.state import DISCORD_EPOCH_MS, Snowflakes


async def test_event_log_waiter_sees_events_from_before_it_started() -> None:
    log = EventLog()
    log.append("message_create", "early")
    log.append("typing", "t")
    found = await log.wait_for(["message_create"], lambda s: s == "early", timeout=0.5)
    assert found.index == 0
    # A waiter that skips events does not consume them: a second waiter still finds them.
    again = await log.wait_for(["typing"], timeout=0.5)
    assert again.subject == "t"


async def test_event_log_wakes_on_append_and_respects_cursor() -> None:
    log = EventLog()
    log.append("message_create", "old")
    cursor = log.cursor()
    waiter = asyncio.ensure_future(log.wait_for(["message_create"], since=cursor, timeout=2))
    await asyncio.sleep(0)
    assert not waiter.done()
    log.append("message_create", "new")
    assert (await waiter).subject == "new"


async def test_event_log_timeout_says_what_arrived() -> None:
    log = EventLog()
    log.append("message_create", "something else")
    with pytest.raises(TimeoutError, match="something else"):
        await log.wait_for(["message_create"], lambda s: s == "wanted", timeout=0.05)


def test_snowflakes_are_unique_increasing_and_timestamped() -> None:
    ids = Snowflakes()
    values = [ids.next() for _ in range(5000)]
    assert values == sorted(set(values))
    ms = (values[0] >> 22) + DISCORD_EPOCH_MS
    assert ms > 1_700_000_000_000


def test_fault_patterns_counts_and_probability() -> None:
    faults = Faults(seed=1)
    rule = faults.add(HTTPFault("post", "/channels/{id}/messages", 500, count=2))
    assert faults.take("GET", "/channels/1/messages") is None
    assert faults.take("POST", "/channels/1/messages/2") is None
    assert faults.take("POST", "/channels/1/messages") is rule
    assert faults.take("POST", "/channels/9/messages") is rule
    assert faults.take("POST", "/channels/1/messages") is None  # count spent
    faults.add(HTTPFault("*", "/guilds/**", 503, count=None, probability=0.5))
    hits = sum(faults.take("GET", f"/guilds/{i}/channels") is not None for i in range(200))
    assert 60 < hits < 140


def test_realistic_rename_bucket_allows_two_per_ten_minutes() -> None:
    limiter = RateLimiter("realistic")
    results = [
        limiter.check("PATCH", "/channels/{channel_id}", "1", renames=True).limited
        for _ in range(3)
    ]
    assert results == [False, False, True]
    other = limiter.check("PATCH", "/channels/{channel_id}", "2", renames=True)
    assert not other.limited  # per channel
    archive = limiter.check("PATCH", "/channels/{channel_id}", "1", renames=False)
    assert not archive.limited  # archiving is not a rename


def test_generous_headers_never_reach_zero() -> None:
    limiter = RateLimiter()
    for _ in range(100):
        decision = limiter.check("POST", "/channels/{channel_id}/messages", "1")
        assert not decision.limited
        assert int(decision.headers["X-RateLimit-Remaining"]) > 0
    with pytest.raises(ValueError):
        limiter.set_profile("strict")


async def test_render_snapshot_of_a_conversation() -> None:
    twin = Twin()
    seed = twin.seed_default()
    alice = twin.create_user("alice", global_name="Alice")
    twin.add_member(seed.guild, alice)
    question = twin.user(alice).send(seed.channel, "two lines\nof text")
    bot = twin.user(seed.bot)
    bot.send(seed.channel, "answer", reply_to=question)
    thread = bot.create_thread(seed.channel, "Session: fix it")
    bot.send(thread, "inside", embeds=[{"title": "Tool", "description": "bash ok"}])
    edited = twin.user(alice).send(seed.channel, "typo")
    twin.user(alice).edit(edited, "fixed")
    twin.ops.update_channel(thread, {"archived": True})
    assert twin.render(seed.channel) == (
        "# general\n"
        "Alice: two lines\n"
        "  of text\n"
        "kimaki [bot]: (reply to Alice) answer\n"
        "  >> thread 'Session: fix it' (1 message, archived)\n"
        "Alice: (edited) fixed\n"
    )
    assert twin.render(thread) == (
        "# general > Session: fix it [archived]\nkimaki [bot]: inside\n  [embed] Tool | bash ok\n"
    )


async def test_limits_are_enforced_for_users_too() -> None:
    from discord_twin import TwinError

    twin = Twin()
    seed = twin.seed_default()
    actor = twin.user(seed.owner)
    with pytest.raises(TwinError) as too_long:
        actor.send(seed.channel, "x" * 2001)
    assert too_long.value.code == 50035
    assert too_long.value.errors == {
        "content": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
            ]
        }
    }
    with pytest.raises(TwinError) as empty:
        actor.send(seed.channel, "")
    assert empty.value.code == 50006
    with pytest.raises(TwinError):
        twin.ops.create_thread(seed.channel, "t", seed.owner.id, auto_archive_duration=30)

    message = actor.send(seed.channel, "react to me")
    for i in range(20):
        actor.react(message, f"e{i}:{1000 + i}")
    with pytest.raises(TwinError) as too_many:
        actor.react(message, "one-more:99")
    assert too_many.value.code == 30010


def test_image_sizes_and_content_types_from_headers() -> None:
    from discord_twin.media import content_type, image_size

    from .helpers import tiny_png

    gif = b"GIF89a" + struct.pack("<HH", 7, 5) + b"\x00" * 8
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof0 = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, 480, 640) + b"\x00" * 6
    jpeg = b"\xff\xd8" + app0 + sof0
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (99).to_bytes(3, "little")
    webp = b"RIFF\x00\x00\x00\x00WEBP" + vp8x + (49).to_bytes(3, "little")
    assert image_size(tiny_png(9, 4)) == (9, 4)
    assert image_size(gif) == (7, 5)
    assert image_size(jpeg) == (640, 480)
    assert image_size(webp) == (100, 50)
    assert image_size(b"plain text") is None and image_size(b"\x89PNG\r\n\x1a\n") is None
    assert content_type("photo", jpeg, "application/octet-stream") == "image/jpeg"
    assert content_type("notes.md", b"# hi") == "text/markdown; charset=utf-8"
    assert content_type("data", b"\x00", "application/x-custom") == "application/x-custom"
    assert content_type("data.bin", b"\x00") == "application/octet-stream"
