"""Choosing the opencode executable: explicit, then PATH, then the pinned one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki.opencode import binary
from kimaki.opencode.binary import OpenCodeNotFound, find_opencode


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_explicit_path_wins(tmp_path: Path) -> None:
    on_path = executable(tmp_path / "bin" / "opencode")
    mine = executable(tmp_path / "mine" / "opencode-dev")
    assert find_opencode(str(mine), path=str(on_path.parent)) == mine


def test_explicit_name_is_looked_up_on_path(tmp_path: Path) -> None:
    named = executable(tmp_path / "bin" / "opencode-nightly")
    assert find_opencode("opencode-nightly", path=str(named.parent)) == named


def test_path_before_pinned(tmp_path: Path) -> None:
    on_path = executable(tmp_path / "bin" / "opencode")
    assert find_opencode(None, path=str(on_path.parent)) == on_path


def test_pinned_when_nothing_on_path(tmp_path: Path) -> None:
    assert find_opencode(None, path=str(tmp_path)) == binary.PINNED_BINARY


def test_nothing_anywhere_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binary, "PINNED_BINARY", tmp_path / "missing" / "opencode")
    with pytest.raises(OpenCodeNotFound, match=r"npm install -g opencode-ai@1\.18\.33"):
        find_opencode(None, path=str(tmp_path))


def test_explicit_path_that_is_not_executable_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "opencode"
    plain.write_text("not a program")
    with pytest.raises(OpenCodeNotFound, match="is not an executable file"):
        find_opencode(str(plain), path="")
