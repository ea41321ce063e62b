"""An isolated world for the real OpenCode: its own HOME and XDG dirs, projects, processes.

Nothing here reads or writes the user's own OpenCode data: every process we start
gets the world's HOME and XDG_* directories, and a dead proxy so that anything that
tries to reach the internet fails at once instead of leaving the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimaki.opencode.binary import PINNED_BINARY
from scripted_model import opencode_provider_config

# Where nothing listens: a proxied request fails with "connection refused" at once.
DEAD_PROXY = "http://127.0.0.1:9"


def opencode_binary() -> Path:
    """The OpenCode the suite runs: the pinned one, unless KIMAKI_TEST_OPENCODE_BIN says."""
    override = os.environ.get("KIMAKI_TEST_OPENCODE_BIN")
    binary = Path(override) if override else PINNED_BINARY
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run scripts/setup --test (it runs npm ci)")
    return binary


@dataclass
class World:
    root: Path
    model_url: str
    projects: list[Path] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """Environment for every OpenCode (and kimaki) process of this world."""
        xdg = self.root / "xdg"
        venv_bin = str(Path(sys.executable).parent)  # holds `rg`, which OpenCode wants
        return {
            "HOME": str(self.root / "home"),
            "XDG_DATA_HOME": str(xdg / "data"),
            "XDG_CONFIG_HOME": str(xdg / "config"),
            "XDG_CACHE_HOME": str(xdg / "cache"),
            "XDG_STATE_HOME": str(xdg / "state"),
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_SHARE": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
            "OPENCODE_DISABLE_CLAUDE_CODE": "1",
            "OPENCODE_DISABLE_EXTERNAL_SKILLS": "1",
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "http_proxy": DEAD_PROXY,
            "https_proxy": DEAD_PROXY,
            "NO_PROXY": "127.0.0.1,localhost,::1",
            "no_proxy": "127.0.0.1,localhost,::1",
        }

    def full_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """os.environ with the world laid over it (for subprocesses)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMAKI_", "OPENCODE_"))}
        env.update(self.env)
        env.update(extra or {})
        return env

    def create_dirs(self) -> None:
        """Create the world's directories and its global OpenCode config.

        The provider is configured globally as well as per project: `opencode run`
        resolves `--model` before it reads the project's opencode.json.
        """
        for key in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            Path(self.env[key]).mkdir(parents=True, exist_ok=True)
        global_config = Path(self.env["XDG_CONFIG_HOME"]) / "opencode" / "opencode.json"
        global_config.parent.mkdir(parents=True, exist_ok=True)
        global_config.write_text(json.dumps(self.opencode_config(), indent=2))

    def opencode_config(self) -> dict[str, Any]:
        config = opencode_provider_config(self.model_url)
        config["$schema"] = "https://opencode.ai/config.json"
        config["permission"] = {"*": "allow"}
        config["autoupdate"] = False
        return config

    def make_project(self, name: str) -> Path:
        """A git project directory whose opencode.json points at the scripted model."""
        path = self.root / "projects" / name
        path.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(path)], check=True)
        (path / "opencode.json").write_text(json.dumps(self.opencode_config(), indent=2))
        (path / "README.md").write_text(f"# {name}\n\nA project for kimaki's tests.\n")
        self.projects.append(path)
        return path


def commit_all(project: Path, message: str = "snapshot", *, init: bool = False) -> None:
    """Commit everything in a test project (OpenCode ids a project by its first commit)."""
    git = ["git", "-c", "user.name=kimaki-tests", "-c", "user.email=tests@kimaki.invalid"]
    if init:
        subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], cwd=project, check=True)


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str
    stderr: str


async def opencode_run(
    world: World,
    project: Path,
    words: Sequence[str],
    *,
    attach: str | None = None,
    password: str | None = None,
    session: str | None = None,
    timeout: float = 120.0,
) -> RunResult:
    """Start a session *from the terminal*: `opencode run` in the project directory.

    Without `attach` it is a separate OpenCode process writing to the world's store
    (the TUI case); with `attach` it runs through the given server.
    """
    args = [str(opencode_binary()), "run", "--model", "scripted/scripted-1"]
    if attach:
        args += ["--attach", attach, "--dir", str(project)]
    if session:
        args += ["--session", session]
    # OpenCode takes its working directory from $PWD when set, not from getcwd().
    extra = {"PWD": str(project)}
    if password:
        extra["OPENCODE_SERVER_PASSWORD"] = password
    proc = await asyncio.create_subprocess_exec(
        *args,
        *words,
        cwd=project,
        env=world.full_env(extra),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return RunResult(
        proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")
    )
