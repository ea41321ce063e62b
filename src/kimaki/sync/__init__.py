"""Background sync: sessions started outside Discord, mirrored into `Sync: <title>` threads.

`loop.py` runs the ticks (what changed, which sessions get a look, per-directory work,
pending sessions); `changes.py` asks OpenCode what changed (one listing of every
directory, or one per directory); `watch.py` wakes a tick when OpenCode's store is
written; `session.py` is what a look at one session does (adopt, mirror); `stats.py`
what `kimaki status` shows of sync.
"""

from .loop import SyncLoop
from .session import SyncSettings, first_prompt_line
from .stats import SyncStats

__all__ = ["SyncLoop", "SyncSettings", "SyncStats", "first_prompt_line"]
