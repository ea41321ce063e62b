"""Which directories /add-project accepts, on real directories and symlinks in a fake home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kimaki.project_paths import ProjectRules


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with a project, hidden dirs, kimaki's data, a file and symlinks in and out."""
    home = tmp_path / "home"
    for directory in ("code/app", ".ssh", ".config/tool", ".kimaki/logs", "work/kimaki-data"):
        (home / directory).mkdir(parents=True)
    (home / "code/notes.txt").write_text("not a directory")
    (tmp_path / "outside").mkdir()
    (home / "code/escape").symlink_to(tmp_path / "outside")
    (home / "code/to-ssh").symlink_to(home / ".ssh")
    (home / "code/alias").symlink_to(home / "code/app")
    (home / "code/loop").symlink_to(home / "code/loop")
    return home


def rules(home: Path, *roots: Path, data: str = ".kimaki") -> ProjectRules:
    return ProjectRules.of(roots, home / data, home=home)


@pytest.mark.parametrize(
    "raw",
    [
        "/",
        "~",
        "~/",
        "{home}",
        "{home}/",
        "code/app",  # relative, though it exists below the home
        "./code/app",
        "~nobody/code/app",
        "~/code/nope",  # does not exist
        "~/code/notes.txt",  # a file
        "~/.ssh",
        "~/.config/tool",  # inside a hidden directory of the home
        "~/code/../.ssh",
        "~/code/to-ssh",  # a symlink into a hidden directory
        "~/code/escape",  # a symlink out of the root
        "~/code/loop",
        "~/.kimaki",
        "~/.kimaki/logs",
        "{home}/../outside",
        "~/code/app\0",
        "",
        "   ",
    ],
)
def test_refused(home: Path, raw: str) -> None:
    assert rules(home).allowed(raw.format(home=home)) is None


def test_accepted_paths_are_the_real_directory(home: Path) -> None:
    allowed = rules(home).allowed
    app = home / "code/app"
    assert allowed("~/code/app") == app
    assert allowed(f"  {home}/code/app/  ") == app
    assert allowed("~/code/alias") == app  # a symlink inside the root is judged by its target
    assert allowed("~/code") == home / "code"
    assert allowed("~/work") == home / "work"


def test_the_data_dir_anything_in_it_and_anything_above_it_are_refused(home: Path) -> None:
    allowed = rules(home, data="work/kimaki-data").allowed
    assert allowed("~/work/kimaki-data") is None
    (home / "work/kimaki-data/logs").mkdir()
    assert allowed("~/work/kimaki-data/logs") is None
    assert allowed("~/work") is None
    assert allowed("~/code/app") == home / "code/app"


def test_a_symlinked_data_dir_is_judged_by_where_it_points(home: Path) -> None:
    (home / "data-link").symlink_to(home / "work/kimaki-data")
    allowed = rules(home, data="data-link").allowed
    assert allowed("~/work/kimaki-data") is None
    assert allowed("~/work") is None


def test_other_roots_replace_the_home(home: Path, tmp_path: Path) -> None:
    srv = tmp_path / "srv"
    (srv / "proj").mkdir(parents=True)
    (srv / ".hidden").mkdir()
    (tmp_path / "srv-link").symlink_to(srv)
    allowed = rules(home, tmp_path / "srv-link", home / "code").allowed
    assert allowed(str(srv / "proj")) == srv / "proj"
    assert allowed(str(tmp_path / "srv-link" / "proj")) == srv / "proj"
    assert allowed("~/code/app") == home / "code/app"
    assert allowed(str(srv)) is None  # a root itself
    assert allowed("~/code") is None
    assert allowed("~/work") is None  # the home is no longer a root
    # Only hidden directories directly under the home are refused.
    assert allowed(str(srv / ".hidden")) == srv / ".hidden"


def test_slash_is_refused_even_as_a_root(home: Path) -> None:
    allowed = rules(home, Path("/")).allowed
    assert allowed("/") is None
    assert allowed("~/code/app") == home / "code/app"
    assert allowed("~/.ssh") is None


def test_the_default_home_is_the_users(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("HOME", str(home))
    found = ProjectRules.of((), home / ".kimaki")
    assert found.home == found.roots[0] == home
    assert found.allowed("~/code/app") == home / "code/app"


def test_one_refusal_text_names_the_roots_and_the_way_around(home: Path, tmp_path: Path) -> None:
    text = rules(home).refusal()
    assert "`~/`" in text and "kimaki project add" in text
    srv = tmp_path / "srv"
    srv.mkdir()
    assert f"`{srv}` or `~/code`" in rules(home, srv, home / "code").refusal()
    assert os.fspath(home) not in text  # the home is shown as ~/
