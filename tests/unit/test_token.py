"""Where the bot token comes from, and the first-run prompt that stores it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kimaki.bot import token
from kimaki.bot.token import TokenMissing, load_token, token_path


def test_the_environment_wins_over_a_stored_token(tmp_path: Path) -> None:
    token_path(tmp_path).write_text("stored\n")
    assert load_token("from-env", tmp_path, interactive=False) == "from-env"
    assert load_token(None, tmp_path, interactive=False) == "stored"


def test_no_token_and_no_terminal_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(TokenMissing, match="set KIMAKI_BOT_TOKEN"):
        load_token(None, tmp_path, interactive=False)


def test_the_first_run_prompt_stores_the_token_for_the_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(token.getpass, "getpass", lambda prompt: "  typed-token \n")
    data = tmp_path / "data"
    assert load_token(None, data, interactive=True) == "typed-token"
    stored = token_path(data)
    assert stored.read_text().strip() == "typed-token"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert "MESSAGE CONTENT" in capsys.readouterr().err
    # The next start reads it without asking.
    monkeypatch.setattr(token.getpass, "getpass", lambda prompt: pytest.fail("asked again"))
    assert load_token(None, data, interactive=True) == "typed-token"


def test_an_empty_answer_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token.getpass, "getpass", lambda prompt: "")
    with pytest.raises(TokenMissing, match="no token entered"):
        load_token(None, tmp_path, interactive=True)
    assert not token_path(tmp_path).exists()
