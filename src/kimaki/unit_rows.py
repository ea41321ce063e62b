"""A plan's units as outbox rows: text split to fit a Discord message, files attached.

The rows' keys are deterministic (a unit's key and the piece's index), so a reconcile
repeated after a crash builds the same keys and the outbox drops what it already has.
The outbox packs the rows into as few Discord messages as it can when it sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from kimaki.attachments.saving import safe_name
from kimaki.mirror import Unit
from kimaki.render import render_notice, split_message
from kimaki.store import Outgoing, SessionID, part_key
from kimaki.uploads import Refused, file_from_url, upload_notice


def pack_units(
    units: Sequence[Unit], file_message: Callable[[Unit], Outgoing] | None = None
) -> list[Outgoing]:
    """The units as outbox rows: one per piece of a unit split to fit a Discord message.

    A row's key is its unit's key and the piece's index, so a retry after a crash builds
    the same keys and the outbox drops what it already has. The outbox packs rows into
    as few messages as it can when it sends them; a unit that notifies does so with its
    last piece. A file unit is a row of its own (so a message of its own), made by
    `file_message`, in its place in the order.
    """
    rows = []
    for unit in units:
        if unit.file is not None:
            rows.append(file_message(unit) if file_message else _file_as_text(unit))
            continue
        pieces = split_message(unit.text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            rows.append(
                Outgoing(part_key(unit.key, index), piece, unit.notify and last, unit.parts)
            )
    return rows


def file_row(files_dir: Path | None, session_id: SessionID, unit: Unit) -> Outgoing:
    """A file the agent's answer carries, as an attachment (kimaki's own copy, under
    `files_dir`); a line saying so when it cannot be posted."""
    assert unit.file is not None
    if files_dir is None:
        return _file_as_text(unit)
    folder = files_dir / safe_name(session_id)
    got = file_from_url(folder, unit.key, unit.file.url, unit.file.filename)
    if isinstance(got, Refused):
        return Outgoing(part_key(unit.key), upload_notice(got), unit.notify, unit.parts)
    return Outgoing(part_key(unit.key), "", unit.notify, unit.parts, files=(got,))


def _file_as_text(unit: Unit) -> Outgoing:
    name = unit.file.filename if unit.file else "file"
    text = render_notice(f"the agent attached {name} (not posted)")
    return Outgoing(part_key(unit.key), text, unit.notify, unit.parts)
