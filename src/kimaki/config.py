"""Settings from command-line flags and ``KIMAKI_*`` environment variables.

A flag wins over its environment variable, which wins over the default. Every
setting is validated here, once, so the rest of kimaki can trust a `Config`: a bad
value becomes a `ConfigError` naming the flag (or variable) it came from.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimaki.ids import Verbosity

DISCORD_API_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg"


class ConfigError(ValueError):
    """A setting with an unusable value; the message is one line naming its source."""


@dataclass(frozen=True)
class Config:
    data_dir: Path
    bot_token: str | None = field(repr=False)
    discord_api_url: str
    discord_gateway_url: str
    opencode_bin: str | None
    disable_sync: bool
    sync_interval: float
    sync_grace: float
    verbosity: Verbosity
    allow_all_users: bool
    permission_timeout: float
    """Minutes a permission prompt waits for a person before it is denied; 0 = forever."""
    projects_roots: tuple[Path, ...]
    """Where `/add-project` may register directories; empty = the user's home."""
    retention_days: float = 30.0
    """Outbox rows sent longer ago than this are deleted."""
    catch_up_window: float = 60.0
    """Minutes: a message written while kimaki was down is run if it is at most this old,
    else it gets a "seen late" note; 0 = never run a missed message."""
    category: str | None = None
    """The Discord category of new project channels; None = `Kimaki <hostname>`."""

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


# --- value parsers: each takes the raw string and raises ValueError with a short reason.


def _seconds(minimum: float, *, inclusive: bool) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"expected a number of seconds, got {raw!r}") from None
        too_small = value < minimum if inclusive else value <= minimum
        if not math.isfinite(value) or too_small:
            bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
            raise ValueError(f"expected a number of seconds {bound}, got {raw!r}")
        return value

    return parse


def _minutes(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of minutes (0 = never), got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"expected a number of minutes >= 0 (0 = never), got {raw!r}")
    return value


def _days(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of days, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"expected a number of days > 0, got {raw!r}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected one of 1/0, true/false, yes/no, on/off, got {raw!r}")


def _verbosity(raw: str) -> Verbosity:
    try:
        return Verbosity(raw)
    except ValueError:
        choices = ", ".join(v.value for v in Verbosity)
        raise ValueError(f"expected one of {choices}, got {raw!r}") from None


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        scheme, sep, rest = raw.partition("://")
        if not sep or scheme not in schemes or not rest:
            raise ValueError(f"expected a {'/'.join(schemes)} URL, got {raw!r}")
        return raw.rstrip("/")

    return parse


def _directory(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("expected a directory path, got an empty value")
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{raw!r} exists and is not a directory")
    return path.resolve()


def _existing_directory(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("expected a directory path, got an empty value")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ValueError(f"expected an absolute (or ~/) path, got {raw!r}")
    if not path.is_dir():
        raise ValueError(f"{raw!r} is not an existing directory")
    return path.resolve()


def _category(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 100:
        raise ValueError(f"expected a category name of 1 to 100 characters, got {raw!r}")
    return name


def _nonempty(raw: str) -> str:
    if not raw.strip():
        raise ValueError("expected a value, got an empty string")
    return raw.strip()


@dataclass(frozen=True)
class _Setting:
    """One setting: where it can come from and how its value is checked."""

    field: str
    env: str
    flag: str | None
    parse: Callable[[str], Any]
    default: Any
    help: str
    is_switch: bool = False
    repeatable: bool = False
    """The flag may be given several times; the variable holds os.pathsep-separated values."""


_SETTINGS: tuple[_Setting, ...] = (
    _Setting(
        "data_dir",
        "KIMAKI_DATA_DIR",
        "--data-dir",
        _directory,
        "~/.kimaki",
        "where kimaki keeps its database and logs (default ~/.kimaki)",
    ),
    _Setting(
        "bot_token",
        "KIMAKI_BOT_TOKEN",
        None,
        _nonempty,
        None,
        "Discord bot token (environment only, so it never shows in `ps`)",
    ),
    _Setting(
        "discord_api_url",
        "KIMAKI_DISCORD_API_URL",
        None,
        _url("http", "https"),
        DISCORD_API_URL,
        "Discord REST base URL",
    ),
    _Setting(
        "discord_gateway_url",
        "KIMAKI_DISCORD_GATEWAY_URL",
        None,
        _url("ws", "wss"),
        DISCORD_GATEWAY_URL,
        "Discord gateway URL",
    ),
    _Setting(
        "opencode_bin",
        "KIMAKI_OPENCODE_BIN",
        "--opencode-bin",
        _nonempty,
        None,
        "the opencode executable (default: `opencode` on PATH, else the pinned one)",
    ),
    _Setting(
        "disable_sync",
        "KIMAKI_DISABLE_SYNC",
        "--disable-sync",
        _boolean,
        "false",
        "do not mirror sessions started outside Discord",
        is_switch=True,
    ),
    _Setting(
        "sync_interval",
        "KIMAKI_SYNC_INTERVAL",
        "--sync-interval",
        _seconds(0, inclusive=False),
        "5",
        "seconds between background sync scans (default 5)",
    ),
    _Setting(
        "sync_grace",
        "KIMAKI_SYNC_GRACE",
        "--sync-grace",
        _seconds(0, inclusive=True),
        "300",
        "also sync sessions created this many seconds before kimaki started (default 300)",
    ),
    _Setting(
        "verbosity",
        "KIMAKI_VERBOSITY",
        "--verbosity",
        _verbosity,
        Verbosity.TEXT_AND_ESSENTIAL_TOOLS.value,
        "default channel verbosity: " + ", ".join(v.value for v in Verbosity),
    ),
    _Setting(
        "allow_all_users",
        "KIMAKI_ALLOW_ALL_USERS",
        "--allow-all-users",
        _boolean,
        "false",
        "let every guild member drive sessions (except those with the no-kimaki role)",
        is_switch=True,
    ),
    _Setting(
        "permission_timeout",
        "KIMAKI_PERMISSION_TIMEOUT",
        "--permission-timeout",
        _minutes,
        "10",
        "minutes a permission prompt waits for an answer before it is denied (default 10; "
        "0 = wait forever)",
    ),
    _Setting(
        "catch_up_window",
        "KIMAKI_CATCH_UP_WINDOW",
        "--catch-up-window",
        _minutes,
        "60",
        "minutes: a message written while kimaki was stopped is run at the next start if it "
        "is at most this old, else it gets a short note (default 60; 0 = never run one)",
    ),
    _Setting(
        "retention_days",
        "KIMAKI_RETENTION_DAYS",
        "--retention-days",
        _days,
        "30",
        "days kimaki keeps the record of messages it sent (default 30)",
    ),
    _Setting(
        "projects_roots",
        "KIMAKI_PROJECTS_ROOT",
        "--projects-root",
        _existing_directory,
        None,
        "a directory under which /add-project in Discord may register projects; repeat for "
        f"several (the variable separates them with {os.pathsep!r}; default: your home)",
        repeatable=True,
    ),
    _Setting(
        "category",
        "KIMAKI_CATEGORY",
        "--category",
        _category,
        None,
        "the Discord category of new project channels (default `Kimaki <hostname>`, so "
        "several machines can share a server)",
    ),
)


def add_arguments(parser: argparse.ArgumentParser, only: Collection[str] | None = None) -> None:
    """Declare the flags; values stay raw strings so `resolve` checks them all alike.

    `only` limits the flags to those fields and leaves them unset when absent, for
    subcommands that repeat a top-level flag (`kimaki project add --data-dir D PATH`).
    """
    default = argparse.SUPPRESS if only is not None else None
    for setting in _SETTINGS:
        if setting.flag is None or (only is not None and setting.field not in only):
            continue
        if setting.repeatable:
            parser.add_argument(
                setting.flag,
                dest=setting.field,
                action="append",
                default=default,
                metavar=setting.field.upper().replace("_", "-").removesuffix("S"),
                help=f"{setting.help} [env {setting.env}]",
            )
        elif setting.is_switch:
            parser.add_argument(
                setting.flag,
                dest=setting.field,
                action="store_const",
                const="true",
                default=default,
                help=f"{setting.help} [env {setting.env}]",
            )
        else:
            parser.add_argument(
                setting.flag,
                dest=setting.field,
                default=default,
                metavar=setting.field.upper().replace("_", "-"),
                help=f"{setting.help} [env {setting.env}]",
            )


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Config:
    """Build a `Config` from parsed flags and the environment, flags winning."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in _SETTINGS:
        raw, source = _raw_value(setting, args, env)
        try:
            values[setting.field] = _parse(setting, raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return Config(**values)


def _parse(setting: _Setting, raw: str | list[str] | None) -> Any:
    if setting.repeatable:
        items = raw if isinstance(raw, list) else (raw or "").split(os.pathsep)
        # An empty entry of the variable (a stray separator) is skipped, as in PATH-like lists.
        keep = items if isinstance(raw, list) else [item for item in items if item.strip()]
        return tuple(setting.parse(item) for item in keep)
    if raw is None:
        return None
    assert isinstance(raw, str)
    return setting.parse(raw)


def _raw_value(
    setting: _Setting, args: argparse.Namespace, env: Mapping[str, str]
) -> tuple[str | list[str] | None, str]:
    flag_value = getattr(args, setting.field, None) if setting.flag else None
    if flag_value is not None:
        return flag_value, setting.flag or setting.env
    if setting.env in env:
        return env[setting.env], setting.env
    return setting.default, "default"


def settings_help() -> str:
    """A short table of the environment-only settings, for `--help`'s epilog."""
    rows = [f"  {s.env:<28} {s.help}" for s in _SETTINGS if s.flag is None]
    return "environment:\n" + "\n".join(rows)
