"""One `kimaki demo`: a Discord twin, the user's OpenCode and a kimaki between them, on loopback.

Everything lives as long as the demo: the twin's state is in memory, kimaki's data dir is a
fresh private temporary directory (removed at stop), so the user's own kimaki data dir is
never touched. OpenCode is the user's own (their binary, HOME, config and models), run through
kimaki's usual supervised server, whose config file sits in that temporary directory.

The twin runs without its HTTP control API: it lets any caller act as anyone with no
password, and any web page the person visits could reach it on loopback. The page's own API
answers only the page (see discord_twin.web_api).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from discord_twin import Twin
from kimaki import config
from kimaki.app import Kimaki, StartupError
from kimaki.demo.models import NO_MODEL, model_providers
from kimaki.opencode.binary import OpenCodeNotFound, find_opencode
from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.kimaki_config import opencode_config_env
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer, OpenCodeServerError
from kimaki.projects import ProjectError, add_project
from kimaki.util.private_files import private_file

log = logging.getLogger("kimaki.demo")

GUILD_NAME = "kimaki demo"
OWNER_NAME = "you"
# The demo decides these: kimaki talks to the twin, with the twin's token, in a temporary dir.
_OWN_SETTINGS = (
    "KIMAKI_BOT_TOKEN",
    "KIMAKI_DATA_DIR",
    "KIMAKI_DISCORD_API_URL",
    "KIMAKI_DISCORD_GATEWAY_URL",
)


class DemoError(RuntimeError):
    """The demo cannot run; the message is one line saying what to do."""


class Demo:
    """Start with `start()`, open `url`; always end with `stop()` (safe at any point)."""

    def __init__(
        self,
        directory: Path,
        *,
        args: argparse.Namespace | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """`args`: kimaki's global flags (`--opencode-bin`, `--verbosity`, …) as parsed."""
        self.directory = directory
        self._args = args or argparse.Namespace()
        self._environ = os.environ if environ is None else environ
        # Made here so logging can go there from the start; `stop()` removes it.
        self.data_dir = Path(tempfile.mkdtemp(prefix="kimaki-demo-"))  # 0700, as mkdtemp makes it
        self.twin = Twin(control_api=False)
        self.server: OpenCodeServer | None = None
        self.kimaki: Kimaki | None = None
        self.channel_id: int | None = None
        self._stack = contextlib.AsyncExitStack()
        self._stack.callback(shutil.rmtree, self.data_dir, ignore_errors=True)

    @property
    def url(self) -> str:
        """The web client, opened at the project's channel."""
        return f"{self.twin.url}/#/channels/{self.channel_id}"

    async def start(self) -> None:
        """Start every part; on any failure (or cancellation) stop what started, and raise."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop kimaki, then its OpenCode server and the twin, and remove the data dir."""
        await self._stack.aclose()

    async def _start(self) -> None:
        data_dir = self.data_dir
        seed = self.twin.seed_default(guild_name=GUILD_NAME, owner_name=OWNER_NAME)
        self.twin.update_application(seed.app, bot_public=False)  # as kimaki advises
        await self.twin.start()
        self._stack.push_async_callback(self.twin.stop)
        settings = self._settings(data_dir)
        server = await self._start_opencode(settings)
        # The bot is in its guild already: an invite link to discord.com would only mislead.
        private_file(data_dir / "started")
        self.kimaki = Kimaki(
            settings,
            seed.token,
            opencode=lambda: server.endpoint,
            opencode_version=server.version or "?",
            opencode_env=server.environment(),
        )
        self._stack.push_async_callback(self.kimaki.stop)
        try:
            await self.kimaki.start()
        except StartupError as exc:
            raise DemoError(str(exc)) from None
        guild = self.kimaki.bot.get_guild(seed.guild.id)
        if guild is None:
            raise DemoError("kimaki did not see the demo server (a bug: please report it)")
        try:
            added = await add_project(self.kimaki.store, guild, self.directory)
        except ProjectError as exc:
            raise DemoError(str(exc)) from None
        self.channel_id = added.channel.id

    def _settings(self, data_dir: Path) -> config.Config:
        env = {k: v for k, v in self._environ.items() if k not in _OWN_SETTINGS}
        env["KIMAKI_DATA_DIR"] = str(data_dir)
        env["KIMAKI_DISCORD_API_URL"] = self.twin.api_url
        env["KIMAKI_DISCORD_GATEWAY_URL"] = self.twin.gateway_url
        try:
            return config.resolve(self._args, env)
        except config.ConfigError as exc:
            raise DemoError(str(exc)) from None

    async def _start_opencode(self, settings: config.Config) -> OpenCodeServer:
        try:
            binary = find_opencode(settings.opencode_bin)
        except OpenCodeNotFound as exc:
            raise DemoError(str(exc)) from None
        data_dir = settings.data_dir
        server = OpenCodeServer(binary, data_dir=data_dir, extra_env=opencode_config_env(data_dir))
        self.server = server
        self._stack.push_async_callback(server.stop)
        try:
            await server.start()
        except OpenCodeServerError as exc:
            raise DemoError(str(exc)) from None
        async with OpenCodeClient(lambda: server.endpoint) as client:
            try:
                providers = await model_providers(client, self.directory)
            except OpenCodeError as exc:
                raise DemoError(f"cannot ask OpenCode for its models: {exc}") from None
        if not providers:
            raise DemoError(NO_MODEL)
        log.info("OpenCode answers with models from: %s", ", ".join(providers))
        return server
