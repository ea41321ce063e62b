"""`kimaki demo`'s pure parts: which providers count as a model, its settings, its arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki import cli
from kimaki.demo.local import Demo, DemoError
from kimaki.demo.models import provider_names
from kimaki.opencode.models import ProviderCatalog


def test_providers_with_models_count_and_those_without_do_not() -> None:
    answer = {
        "providers": [
            {"id": "scripted", "name": "Scripted", "models": {"scripted-1": {"name": "S"}}},
            {"id": "empty", "name": "Empty", "models": {}},
            {"id": "anthropic", "models": {"claude": {"name": "Claude"}}},
        ],
        "default": {"scripted": "scripted-1"},
    }
    assert provider_names(ProviderCatalog.from_json(answer)) == ["Scripted", "anthropic"]
    assert provider_names(ProviderCatalog.from_json({"providers": [], "default": {}})) == []


async def test_the_demo_ignores_the_users_token_data_dir_and_discord(tmp_path: Path) -> None:
    environ = {
        "KIMAKI_BOT_TOKEN": "the-users-real-token",
        "KIMAKI_DATA_DIR": str(tmp_path / "users-kimaki"),
        "KIMAKI_DISCORD_API_URL": "https://discord.com/api/v10",
        "KIMAKI_VERBOSITY": "text_only",
    }
    demo = Demo(tmp_path, environ=environ)
    try:
        settings = demo._settings(demo.data_dir)
        assert settings.bot_token is None
        assert settings.data_dir == demo.data_dir.resolve()
        assert settings.discord_api_url == demo.twin.api_url
        assert settings.verbosity.value == "text_only"  # the user's other settings still apply
        bad = Demo(tmp_path, environ={"KIMAKI_VERBOSITY": "loud"})
        with pytest.raises(DemoError, match="KIMAKI_VERBOSITY"):
            bad._settings(bad.data_dir)
        await bad.stop()
        assert not bad.data_dir.exists()
    finally:
        await demo.stop()
    assert not demo.data_dir.exists()
    assert not (tmp_path / "users-kimaki").exists()


def test_data_dir_and_a_missing_path_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data-dir", str(tmp_path), "demo", str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "kimaki demo: --data-dir does not apply: the demo keeps no data\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"kimaki demo: {tmp_path / 'nowhere'} does not exist\n"
