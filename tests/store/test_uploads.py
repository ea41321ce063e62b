"""`kimaki.uploads`: files copied, grouped into messages, refused when too big."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from kimaki.store import OutboxState, Store, ThreadRecord
from kimaki.uploads import Refused, file_from_url, queue_upload


def files(folder: Path, count: int, size: int = 10) -> list[Path]:
    folder.mkdir(exist_ok=True)
    made = []
    for n in range(count):
        path = folder / f"f{n}.txt"
        path.write_bytes(bytes([n]) * size)
        made.append(path)
    return made


def test_files_are_copied_and_grouped_ten_to_a_message(
    store: Store, thread: ThreadRecord, tmp_path: Path
) -> None:
    paths = files(tmp_path / "work", 12)
    upload = queue_upload(store, tmp_path / "data", thread.thread_id, paths)
    assert upload.refused == [] and upload.posted == [p.name for p in paths]
    rows = [store.outbox.by_key(k) for k in upload.keys]
    assert [r.state for r in rows if r] == [OutboxState.PENDING] * 2
    groups = [store.outbox.files.of(r.id) for r in rows if r]
    assert [len(g) for g in groups] == [10, 2]
    first = groups[0][0]
    assert first.filename == "f0.txt" and first.path.read_bytes() == paths[0].read_bytes()
    assert first.path.is_relative_to(tmp_path / "data" / "uploads")
    assert stat.S_IMODE(os.stat(first.path).st_mode) == 0o600


def test_a_file_over_the_limit_is_refused_and_the_thread_told(
    store: Store, thread: ThreadRecord, tmp_path: Path
) -> None:
    small, big = files(tmp_path / "work", 2, size=0)
    big.write_bytes(b"x" * 2048)
    upload = queue_upload(
        store, tmp_path / "data", thread.thread_id, [small, big, tmp_path / "nope"], limit=1024
    )
    assert [r.line() for r in upload.refused] == [
        "f1.txt: 2 KB is more than Discord's 1 KB upload limit",
        "nope: not a file",
    ]
    notice = store.outbox.in_thread(thread.thread_id)[-1]
    assert notice.content.startswith("⬦ not posted: f1.txt: 2 KB")
    assert len(upload.keys) == 1


def test_a_file_part_becomes_kimakis_own_copy(tmp_path: Path) -> None:
    data = base64.b64encode(b"PNGDATA").decode()
    copy = file_from_url(tmp_path, "prt_1", f"data:image/png;base64,{data}", "shot.png")
    assert not isinstance(copy, Refused)
    assert copy.filename == "shot.png" and copy.path.read_bytes() == b"PNGDATA"
    source = tmp_path / "made.csv"
    source.write_text("a,b\n")
    copy = file_from_url(tmp_path, "prt_2", source.as_uri(), "made.csv")
    assert not isinstance(copy, Refused) and copy.path.read_text() == "a,b\n"
    assert isinstance(file_from_url(tmp_path, "prt_3", "https://x/y.png", "y.png"), Refused)
    big = file_from_url(tmp_path, "prt_4", f"data:text/plain;base64,{data}", "b.txt", limit=3)
    assert isinstance(big, Refused) and "upload limit" in big.why
