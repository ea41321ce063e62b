"""Where the bot token comes from, and how the guided setup stores it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kimaki.bot.token import TokenMissing, load_token, store_token, stored_token, token_path


def test_the_environment_wins_over_a_stored_token(tmp_path: Path) -> None:
    token_path(tmp_path).write_text("stored\n")
    assert load_token("from-env", tmp_path, interactive=False) == "from-env"
    assert load_token(None, tmp_path, interactive=False) == "stored"
    assert stored_token(None, tmp_path) == "stored"


def test_no_token_and_no_terminal_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(TokenMissing, match="set KIMAKI_BOT_TOKEN"):
        load_token(None, tmp_path, interactive=False)


def test_no_token_at_a_terminal_points_to_the_setup(tmp_path: Path) -> None:
    """`kimaki project add` and friends never ask themselves: one place asks and checks."""
    with pytest.raises(TokenMissing, match="run `kimaki setup`"):
        load_token(None, tmp_path, interactive=True)
    assert stored_token(None, tmp_path) is None


def test_a_stored_token_is_for_the_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = store_token(data, "first")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # a file from an older kimaki, or a careless copy
    store_token(data, "second")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token(None, data, interactive=False) == "second"
