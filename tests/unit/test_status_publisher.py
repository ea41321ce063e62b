"""The status publisher asks OpenCode for its health only when the event stream is down."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kimaki.opencode.rest import OpenCodeClient
from kimaki.status_publisher import StatusPublisher


def publisher(tmp_path: Path, client: OpenCodeClient, connected: bool) -> StatusPublisher:
    config: Any = SimpleNamespace(data_dir=tmp_path, sync_interval=5.0)
    return StatusPublisher(
        config,
        bot=None,  # type: ignore[arg-type]
        opencode=client,
        endpoint=lambda: None,
        sync=None,
        opencode_version=lambda: "1.18.33",
        stream_connected=lambda: connected,
    )


async def test_a_connected_stream_stands_for_health_without_a_request(tmp_path: Path) -> None:
    # A client with no server: any request it made would fail and show as unhealthy.
    async with OpenCodeClient(lambda: None) as client:
        status = await publisher(tmp_path, client, connected=True)._opencode()
    assert status["healthy"] is True and status["error"] is None
    assert (status["checked_by"], status["version"]) == ("event stream", "1.18.33")


async def test_with_the_stream_down_health_is_asked_and_its_failure_said(
    tmp_path: Path,
) -> None:
    async with OpenCodeClient(lambda: None) as client:
        status = await publisher(tmp_path, client, connected=False)._opencode()
    assert status["healthy"] is False and status["checked_by"] == "health request"
    assert "not running" in status["error"]
