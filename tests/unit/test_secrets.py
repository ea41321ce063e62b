"""Secrets kept from the agent's environment and from every log line."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path

import pytest

from kimaki.agent_env import agent_environment
from kimaki.logs import PrivateRotatingFileHandler, setup_logging
from kimaki.opencode.server_log import LONGEST_LINE, lines
from kimaki.util.redaction import REDACTED, RedactingFilter, Secrets, remember_secret

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.the-bot-token-itself-0123456789"
PASSWORD = "server-password-made-at-start-0123456789"


def test_the_agent_environment_keeps_the_users_and_drops_kimakis() -> None:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/me",
        "OPENAI_API_KEY": "sk-the-users-own-model-key",
        "KIMAKI_BOT_TOKEN": TOKEN,
        "KIMAKI_DATA_DIR": "/home/me/.kimaki",
        "kimaki_anything": "lower case is kimaki's too",
        "DISCORD_TOKEN": TOKEN,  # the same token exported under another name
        "AUTH_HEADER": f"Bot {TOKEN}",
        "NOT_KIMAKI_VAR": "kept: the prefix is what counts",
    }
    env = agent_environment(base, secrets=[TOKEN])
    assert env == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/me",
        "OPENAI_API_KEY": "sk-the-users-own-model-key",
        "NOT_KIMAKI_VAR": "kept: the prefix is what counts",
    }
    assert base["KIMAKI_BOT_TOKEN"] == TOKEN, "the input is left alone"


def test_the_agent_environment_uses_the_secrets_this_process_learned() -> None:
    remember_secret("a-secret-learned-while-running-0123")
    env = agent_environment({"ALIAS": "a-secret-learned-while-running-0123", "KEEP": "x"})
    assert env == {"KEEP": "x"}


def test_redaction_hides_each_secret_whole_and_ignores_short_values() -> None:
    secrets = Secrets([TOKEN, "short", PASSWORD])
    secrets.add_basic_auth("opencode", PASSWORD)
    basic = base64.b64encode(f"opencode:{PASSWORD}".encode()).decode()
    text = f"token={TOKEN} auth=Basic {basic} pw={PASSWORD} short stays"
    assert (
        secrets.redact(text) == f"token={REDACTED} auth=Basic {REDACTED} pw={REDACTED} short stays"
    )
    assert secrets.redact_bytes(text.encode()) == secrets.redact(text).encode()


def test_the_log_filter_hides_secrets_in_arguments_and_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "kimaki.log"
    handler = PrivateRotatingFileHandler(path, encoding="utf-8")
    handler.addFilter(RedactingFilter(Secrets([TOKEN])))
    logger = logging.getLogger("tests.secrets.filter")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        logger.debug("login with %s", TOKEN)
        logger.info(f"inline {TOKEN}")
        try:
            raise RuntimeError(f"Discord said no to {TOKEN}")
        except RuntimeError:
            logger.exception("failed")
        logger.info("nothing secret here: %d", 42)
    finally:
        logger.removeHandler(handler)
        handler.close()
    written = path.read_text()
    assert TOKEN not in written
    assert written.count(REDACTED) == 3, written
    assert "login with [redacted]" in written and "nothing secret here: 42" in written
    assert "RuntimeError: Discord said no to [redacted]" in written


async def test_server_output_lines_come_whole_even_past_the_buffer_limit() -> None:
    stream = asyncio.StreamReader(limit=64)
    long_line = b"x" * 300 + TOKEN.encode() + b"\n"
    stream.feed_data(b"first\n" + long_line + b"no newline at the end")
    stream.feed_eof()
    got = [line async for line in lines(stream)]
    assert got == [b"first\n", long_line, b"no newline at the end"]
    assert TOKEN not in Secrets([TOKEN]).redact_bytes(got[1]).decode()


async def test_a_line_longer_than_the_longest_comes_in_pieces_and_nothing_is_lost() -> None:
    stream = asyncio.StreamReader(limit=1024)
    huge = b"y" * (LONGEST_LINE + 5000) + b"\n"
    stream.feed_data(huge)
    stream.feed_eof()
    pieces = [piece async for piece in lines(stream)]
    assert len(pieces) > 1 and b"".join(pieces) == huge


def test_kimakis_log_setup_hides_secrets_on_the_console_and_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("discord").level)
    remember_secret(TOKEN)
    try:
        setup_logging(tmp_path / "logs", debug=True)
        logging.getLogger("kimaki.tests").debug("the token is %s", TOKEN)
    finally:
        for handler in root.handlers[:]:
            if handler not in saved[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved[1])
        logging.getLogger("discord").setLevel(saved[2])
    written = (tmp_path / "logs" / "kimaki.log").read_text()
    console = capsys.readouterr().err
    assert f"the token is {REDACTED}" in written and f"the token is {REDACTED}" in console
    assert TOKEN not in written + console
