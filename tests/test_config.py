"""Flags and KIMAKI_* variables: precedence, defaults, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimaki import cli, config
from kimaki.ids import Verbosity


def resolve(argv: list[str], env: dict[str, str] | None = None) -> config.Config:
    return config.resolve(cli.build_parser().parse_args(argv), env or {})


def test_defaults() -> None:
    settings = resolve([])
    assert settings.data_dir == Path("~/.kimaki").expanduser().resolve()
    assert settings.bot_token is None
    assert settings.discord_api_url == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg"
    assert settings.opencode_bin is None
    assert settings.disable_sync is False
    assert settings.sync_interval == 5.0
    assert settings.sync_grace == 300.0
    assert settings.verbosity is Verbosity.TEXT_AND_ESSENTIAL_TOOLS
    assert settings.allow_all_users is False
    assert settings.permission_timeout == 10.0
    assert settings.projects_roots == ()  # /add-project's root is then the home


def test_permission_timeout_is_minutes_and_zero_means_never() -> None:
    assert resolve(["--permission-timeout", "2.5"]).permission_timeout == 2.5
    assert resolve([], {"KIMAKI_PERMISSION_TIMEOUT": "0"}).permission_timeout == 0.0
    with pytest.raises(config.ConfigError, match=r"--permission-timeout: .*minutes"):
        resolve(["--permission-timeout", "-1"])
    with pytest.raises(config.ConfigError, match=r"KIMAKI_PERMISSION_TIMEOUT: .*minutes"):
        resolve([], {"KIMAKI_PERMISSION_TIMEOUT": "soon"})


def test_catch_up_window_is_minutes_with_an_hour_by_default() -> None:
    assert resolve([]).catch_up_window == 60.0
    assert resolve(["--catch-up-window", "5"]).catch_up_window == 5.0
    assert resolve([], {"KIMAKI_CATCH_UP_WINDOW": "0"}).catch_up_window == 0.0


def test_environment_is_read_and_flags_win(tmp_path: Path) -> None:
    env = {
        "KIMAKI_DATA_DIR": str(tmp_path / "from-env"),
        "KIMAKI_SYNC_INTERVAL": "7",
        "KIMAKI_VERBOSITY": "text_only",
        "KIMAKI_DISABLE_SYNC": "yes",
        "KIMAKI_BOT_TOKEN": " token-from-env ",
        "KIMAKI_DISCORD_API_URL": "http://127.0.0.1:9000/api/v10/",
        "KIMAKI_DISCORD_GATEWAY_URL": "ws://127.0.0.1:9000/gateway",
    }
    settings = resolve(["--data-dir", str(tmp_path / "from-flag"), "--sync-interval", "2.5"], env)
    assert settings.data_dir == tmp_path / "from-flag"
    assert settings.sync_interval == 2.5
    assert settings.verbosity is Verbosity.TEXT_ONLY
    assert settings.disable_sync is True
    assert settings.bot_token == "token-from-env"
    assert settings.discord_api_url == "http://127.0.0.1:9000/api/v10"
    assert settings.discord_gateway_url == "ws://127.0.0.1:9000/gateway"


def test_switch_flags_override_a_false_environment() -> None:
    env = {"KIMAKI_ALLOW_ALL_USERS": "0", "KIMAKI_DISABLE_SYNC": "off"}
    assert resolve([], env).allow_all_users is False
    settings = resolve(["--allow-all-users", "--disable-sync"], env)
    assert settings.allow_all_users is True and settings.disable_sync is True


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--sync-interval", "abc"], {}, "--sync-interval"),
        (["--sync-interval", "0"], {}, "--sync-interval"),
        (["--sync-interval", "nan"], {}, "--sync-interval"),
        (["--sync-grace", "-1"], {}, "--sync-grace"),
        (["--verbosity", "loud"], {}, "--verbosity"),
        (["--data-dir", ""], {}, "--data-dir"),
        ([], {"KIMAKI_SYNC_INTERVAL": "soon"}, "KIMAKI_SYNC_INTERVAL"),
        ([], {"KIMAKI_ALLOW_ALL_USERS": "maybe"}, "KIMAKI_ALLOW_ALL_USERS"),
        ([], {"KIMAKI_DISCORD_API_URL": "ftp://example"}, "KIMAKI_DISCORD_API_URL"),
        ([], {"KIMAKI_DISCORD_GATEWAY_URL": "http://x"}, "KIMAKI_DISCORD_GATEWAY_URL"),
        ([], {"KIMAKI_BOT_TOKEN": "  "}, "KIMAKI_BOT_TOKEN"),
        (["--no-such-flag"], {}, "--no-such-flag"),
        (["--sync-interval"], {}, "--sync-interval"),
        (["--permission-timeout", "inf"], {}, "--permission-timeout"),
        (["--projects-root", "relative/dir"], {}, "--projects-root"),
        (["--projects-root", "/", "--projects-root", "/no/such/dir"], {}, "--projects-root"),
        (["--projects-root", ""], {}, "--projects-root"),
        ([], {"KIMAKI_PROJECTS_ROOT": f"/{os.pathsep}/no/such/dir"}, "KIMAKI_PROJECTS_ROOT"),
    ],
)
def test_bad_values_give_one_line_naming_the_setting_and_exit_2(
    argv: list[str],
    env: dict[str, str],
    named: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in [k for k in list(os.environ) if k.startswith("KIMAKI_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("kimaki: error: ") and named in err


def test_projects_root_repeats_and_the_variable_is_a_path_list(tmp_path: Path) -> None:
    one, two, three = (tmp_path / name for name in ("one", "two", "three"))
    for directory in (one, two, three):
        directory.mkdir()
    (tmp_path / "link").symlink_to(two)
    flags = ["--projects-root", str(one), "--projects-root", str(tmp_path / "link")]
    env = {"KIMAKI_PROJECTS_ROOT": f"{three}{os.pathsep}{os.pathsep}{one}{os.pathsep}"}
    assert resolve(flags, env).projects_roots == (one, two)  # flags win, symlinks resolved
    assert resolve([], env).projects_roots == (three, one)  # empty entries skipped
    assert resolve([], {"KIMAKI_PROJECTS_ROOT": ""}).projects_roots == ()
    with pytest.raises(config.ConfigError, match=r"--projects-root: .* not an existing directory"):
        resolve(["--projects-root", str(tmp_path / "file-or-nothing")])


def test_the_bot_token_never_shows_in_the_settings_repr() -> None:
    settings = resolve([], {"KIMAKI_BOT_TOKEN": "the-secret-bot-token"})
    assert settings.bot_token == "the-secret-bot-token"
    assert "the-secret-bot-token" not in repr(settings)


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(config.ConfigError, match=r"--data-dir: .* is not a directory"):
        resolve(["--data-dir", str(afile)])


def test_the_console_script_prints_one_line_and_exits_2() -> None:
    kimaki = Path(sys.executable).parent / "kimaki"
    result = subprocess.run(
        [str(kimaki), "--sync-interval", "-3"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kimaki: error: --sync-interval: expected a number of seconds > 0, got '-3'"
    ]
