"""The supervisor keeps kimaki's secrets out of the server's environment and its log file.

The child here is a stand-in that misbehaves on purpose: it prints the password it was
given and a token it should never have known, on both stdout and stderr, so the test
can fail if the log pump let either through.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kimaki.opencode.server import OpenCodeServer, OpenCodeServerError
from kimaki.util.redaction import REDACTED, remember_secret

TOKEN = "MTk5OTk5OTk5OTk5.Gtest.a-token-kimaki-knows-0123456789"


async def test_the_server_log_hides_secrets_from_both_streams(tmp_path: Path) -> None:
    remember_secret(TOKEN)
    fake = tmp_path / "opencode"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "stdout password: $OPENCODE_SERVER_PASSWORD"\n'
        'echo "stderr password: $OPENCODE_SERVER_PASSWORD" >&2\n'
        f'echo "stderr token: {TOKEN}" >&2\n'
        "env | sort\n"
        "exit 3\n"
    )
    fake.chmod(0o755)
    data = tmp_path / "data"
    server = OpenCodeServer(
        fake,
        data_dir=data,
        extra_env={"KIMAKI_BOT_TOKEN": TOKEN, "TOKEN_ALIAS": TOKEN, "USERS_OWN": "kept"},
        start_timeout=20,
    )
    with pytest.raises(OpenCodeServerError, match="exited with code 3"):
        await server.start()
    await server.stop()
    log = server.log_path.read_text()
    assert f"stdout password: {REDACTED}" in log and f"stderr password: {REDACTED}" in log
    assert f"stderr token: {REDACTED}" in log
    assert server.password not in log and TOKEN not in log
    # The environment the child got: the user's, without kimaki's variables.
    assert "USERS_OWN=kept" in log
    assert "KIMAKI_" not in log and "TOKEN_ALIAS" not in log
    assert stat.S_IMODE(server.log_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(server.log_path.parent.stat().st_mode) == 0o700
