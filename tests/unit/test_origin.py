"""The <discord-user/> tag and the ownership rule: who drives a session, read from its messages."""

from __future__ import annotations

from typing import Any

import pytest

from kimaki.opencode.models import Message
from kimaki.origin import (
    DiscordOrigin,
    build_tag,
    discord_drives,
    message_origin,
    parse_tag,
    tag_part,
)

_counter = iter(range(1_000_000))


def _text(text: str, *, synthetic: bool = False) -> dict[str, Any]:
    part: dict[str, Any] = {
        "id": f"prt_{next(_counter)}",
        "sessionID": "ses_1",
        "messageID": "msg_x",
        "type": "text",
        "text": text,
        "time": {"start": 1, "end": 2},
    }
    if synthetic:
        part["synthetic"] = True
    return part


def _message(role: str, *parts: dict[str, Any]) -> Message:
    info = {
        "id": f"msg_{next(_counter)}",
        "sessionID": "ses_1",
        "role": role,
        "time": {"created": 1},
    }
    return Message.from_json({"info": info, "parts": list(parts)})


def _from_discord(words: str = "hi from discord") -> Message:
    return _message("user", _text(words), _text(build_tag("ana", 1, 2, 3), synthetic=True))


def _from_terminal(words: str = "hi from the terminal") -> Message:
    return _message("user", _text(words))


def _assistant(words: str = "done") -> Message:
    return _message("assistant", _text(words))


def test_build_tag_has_the_documented_shape() -> None:
    assert build_tag("ana", 11, "22", 33) == (
        '<discord-user name="ana" user-id="11" message-id="22" thread-id="33" />'
    )


@pytest.mark.parametrize(
    "name",
    [
        'Dwayne "The Rock"',
        "O'Brien",
        "<@everyone> & <script>",
        "two\nlines\r\nand\ttab",
        "nul\x00 del\x7f nel\x85 sep\u2028para\u2029",
        "Zoë 🧑‍💻 日本語 🇯🇵",
        "&amp; already &#10; escaped-looking",
        "",
    ],
)
def test_tag_round_trips_any_name_and_stays_one_line(name: str) -> None:
    tag = build_tag(name, "123", "456", "789")
    assert len(tag.splitlines()) == 1
    assert tag.count("<") == 1 and tag.count(">") == 1  # nothing in a value can end the tag
    assert parse_tag(f"prefix {tag} suffix") == DiscordOrigin(name, "123", "456", "789")


def test_parse_ignores_attribute_order_extra_attributes_and_quote_style() -> None:
    text = 'x <discord-user thread-id=\'9\' extra="1" message-id="8" user-id="7" name=\'b&amp;c\'/>'
    assert parse_tag(text) == DiscordOrigin("b&c", "7", "8", "9")


def test_parse_reports_missing_attributes_as_none_but_still_finds_the_tag() -> None:
    assert parse_tag("<discord-user name='x' />") == DiscordOrigin("x", None, None, None)


@pytest.mark.parametrize(
    "text",
    ["", "no tag here", "<discord-users name='x' />", "<discord-user-id x='1' />", "<discord"],
)
def test_parse_finds_nothing_without_the_exact_tag(text: str) -> None:
    assert parse_tag(text) is None


def test_parse_returns_the_first_of_several_tags() -> None:
    text = build_tag("first", 1, 1, 1) + "\n" + build_tag("second", 2, 2, 2)
    origin = parse_tag(text)
    assert origin is not None and origin.name == "first"


def test_tag_part_is_a_synthetic_prompt_part_holding_the_tag() -> None:
    part = tag_part("ana", 1, 2, 3)
    assert part.synthetic and part.to_json() == {
        "type": "text",
        "text": build_tag("ana", 1, 2, 3),
        "synthetic": True,
    }


def test_origin_found_in_a_synthetic_part_of_a_message_without_visible_text() -> None:
    message = _message("user", _text(build_tag("ana", 1, 2, 3), synthetic=True))
    assert message.text() == ""
    assert message_origin(message) == DiscordOrigin("ana", "1", "2", "3")


def test_origin_found_in_a_visible_part_too() -> None:
    message = _message("user", _text("please " + build_tag("ana", 1, 2, 3)))
    assert message_origin(message) == DiscordOrigin("ana", "1", "2", "3")


def test_the_synthetic_tag_wins_over_one_pasted_into_the_users_words() -> None:
    pasted = _text(build_tag("mallory", 6, 6, 6))
    real = _text(build_tag("ana", 1, 2, 3), synthetic=True)
    assert message_origin(_message("user", pasted, real)) == DiscordOrigin("ana", "1", "2", "3")


def test_assistant_messages_have_no_origin_even_when_quoting_a_tag() -> None:
    assert message_origin(_assistant(build_tag("ana", 1, 2, 3))) is None


def test_a_session_without_user_messages_is_mirrored() -> None:
    assert discord_drives([]) is False
    assert discord_drives([_assistant()]) is False


def test_the_newest_user_message_decides_across_handoffs() -> None:
    history: list[Message] = [_from_terminal(), _assistant()]
    assert not discord_drives(history)
    history += [_from_discord(), _assistant()]
    assert discord_drives(history)  # continued from Discord: sync lets go
    history += [_from_terminal("back at my desk"), _assistant()]
    assert not discord_drives(history)  # back in the terminal: sync mirrors again
    history += [_from_discord("on my phone")]
    assert discord_drives(history)  # the newest user message, even before any answer


def test_newest_means_last_by_position_not_by_timestamp() -> None:
    discord = _from_discord()
    terminal = Message.from_json(
        {
            "info": {"id": "msg_t", "role": "user", "time": {"created": 0}},
            "parts": [_text("typed later, clock behind")],
        }
    )
    assert not discord_drives([discord, terminal])
    assert discord_drives([terminal, discord])
