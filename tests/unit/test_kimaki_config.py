"""kimaki's own OpenCode config file: written at start, handed over by OPENCODE_CONFIG."""

from __future__ import annotations

import json
from pathlib import Path

from kimaki.opencode.kimaki_config import FILENAME, opencode_config_env


def test_the_default_allows_edit_bash_webfetch_and_nothing_else(tmp_path: Path) -> None:
    env = opencode_config_env(tmp_path)
    path = Path(env["OPENCODE_CONFIG"])
    assert path == tmp_path / FILENAME
    permission = json.loads(path.read_text())["permission"]
    assert permission == {"edit": "allow", "bash": "allow", "webfetch": "allow"}


def test_a_file_the_user_edited_is_kept(tmp_path: Path) -> None:
    path = Path(opencode_config_env(tmp_path)["OPENCODE_CONFIG"])
    mine = {"permission": {"edit": "allow", "bash": "ask"}}
    path.write_text(json.dumps(mine))
    opencode_config_env(tmp_path)
    assert json.loads(path.read_text()) == mine
    path.unlink()  # deleting it brings the default back
    opencode_config_env(tmp_path)
    assert json.loads(path.read_text())["permission"]["bash"] == "allow"
