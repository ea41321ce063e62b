"""Files out: what `kimaki upload` and the agent's own file parts post into a thread.

A file is copied into the data dir (private) before its outbox row is queued, so the
message sends the same bytes however long it waits; the row and its files are written
in one transaction (`Store.enqueue`), and the outbox sends them exactly once like any
other row. Files go up to `FILES_PER_MESSAGE` to a message and at most Discord's upload
limit per message; a file over the limit is not posted, and the thread says so.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from kimaki.attachments.parts import human_size
from kimaki.attachments.saving import safe_name
from kimaki.discord_limits import FILES_PER_MESSAGE, UPLOAD_LIMIT
from kimaki.render import render_notice
from kimaki.store import Outgoing, OutgoingFile, Store, ThreadID, synthetic_key
from kimaki.util.private_files import open_private, private_dir, write_private

UPLOADS = "uploads"


@dataclass
class Refused:
    name: str
    why: str

    def line(self) -> str:
        return f"{self.name}: {self.why}"


@dataclass
class Upload:
    """What one `kimaki upload` queued: its rows' keys, and the files it refused."""

    keys: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def too_big(name: str, size: int, limit: int = UPLOAD_LIMIT) -> Refused:
    return Refused(
        name, f"{human_size(size)} is more than Discord's {human_size(limit)} upload limit"
    )


def queue_upload(
    store: Store,
    data_dir: Path,
    thread_id: ThreadID,
    paths: Sequence[Path],
    *,
    limit: int = UPLOAD_LIMIT,
) -> Upload:
    """Copy `paths` into the data dir and queue them for the thread (nothing is sent here)."""
    token = secrets.token_hex(6)
    folder = private_dir(data_dir / UPLOADS / token)
    upload = Upload()
    files: list[tuple[OutgoingFile, int]] = []
    for index, path in enumerate(paths):
        refused = _check(path, limit)
        if refused is not None:
            upload.refused.append(refused)
            continue
        copy = folder / f"{index}-{safe_name(path.name)}"
        with path.open("rb") as source, open_private(copy, "wb") as target:
            shutil.copyfileobj(source, target)
        files.append((OutgoingFile(copy, path.name), copy.stat().st_size))
        upload.posted.append(path.name)
    outgoing = [
        Outgoing(synthetic_key("upload", token, n), "", files=tuple(group))
        for n, group in enumerate(_groups(files, limit))
    ]
    if upload.refused:
        lines = "; ".join(r.line() for r in upload.refused)
        outgoing.append(
            Outgoing(synthetic_key("upload-refused", token), render_notice(f"not posted: {lines}"))
        )
    store.enqueue(thread_id, None, outgoing)
    upload.keys = [o.key for o in outgoing if o.files]
    return upload


def _check(path: Path, limit: int) -> Refused | None:
    if not path.is_file():
        return Refused(path.name or str(path), "not a file")
    size = path.stat().st_size
    if size > limit:
        return too_big(path.name, size, limit)
    return None


def _groups(files: list[tuple[OutgoingFile, int]], limit: int) -> list[list[OutgoingFile]]:
    """Messages of at most FILES_PER_MESSAGE files and `limit` bytes, in order."""
    groups: list[list[OutgoingFile]] = []
    total = 0
    for file, size in files:
        if not groups or len(groups[-1]) >= FILES_PER_MESSAGE or total + size > limit:
            groups.append([])
            total = 0
        groups[-1].append(file)
        total += size
    return groups


def file_from_url(
    files_dir: Path, key: str, url: str, filename: str, *, limit: int = UPLOAD_LIMIT
) -> OutgoingFile | Refused:
    """kimaki's copy of a file part's content (`data:` or `file://`), ready to attach."""
    name = filename or "file"
    data = _bytes_of(url)
    if data is None:
        return Refused(name, "its content is not a data: or file:// URL kimaki can read")
    if len(data) > limit:
        return too_big(name, len(data), limit)
    folder = private_dir(files_dir)
    copy = folder / f"{safe_name(key)}-{safe_name(name)}"
    write_private(copy, data)
    return OutgoingFile(copy, name)


def _bytes_of(url: str) -> bytes | None:
    if url.startswith("data:") and "," in url:
        head, payload = url[5:].split(",", 1)
        if not head.endswith(";base64"):
            return unquote(payload).encode()
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            return None
    parsed = urlparse(url)
    if parsed.scheme == "file":
        try:
            return Path(unquote(parsed.path)).read_bytes()
        except OSError:
            return None
    return None


def upload_notice(refused: Refused) -> str:
    return render_notice(f"not posted: {refused.line()}")
