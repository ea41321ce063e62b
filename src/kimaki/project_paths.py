"""Which directories someone in Discord may register as a project.

A project hands an agent with shell access a directory, so from Discord only
directories strictly below an allowed root (by default the home of the user running
kimaki; `--projects-root` changes it) are accepted, judged after resolving symlinks.
Refused besides: `/` and the roots themselves, hidden directories directly under home
(`~/.ssh`, `~/.config`, … and everything in them), and kimaki's data dir, anything in
it and anything above it. The command line (`kimaki project add`) is not limited: the
local user decides there.

Every refusal, a missing directory included, gets one and the same answer, so a
Discord user cannot learn whether a path exists. The existence check comes last, after
all the rules that need no look at the disk beyond resolving the path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectRules:
    """Where Discord users may register projects; every path here is real (resolved)."""

    home: Path
    roots: tuple[Path, ...]
    data_dir: Path

    @classmethod
    def of(cls, roots: Sequence[Path], data_dir: Path, home: Path | None = None) -> ProjectRules:
        """Rules for `roots` (empty: the home), read off the disk now."""
        real_home = _real(home if home is not None else Path.home())
        real_roots = tuple(_real(root) for root in roots) or (real_home,)
        return cls(real_home, real_roots, _real(data_dir))

    def refusal(self) -> str:
        """The one answer to every refused path: what is accepted, and the way around."""
        where = " or ".join(f"`{self._shown(root)}`" for root in self.roots)
        return (
            f"from Discord, kimaki adds only an existing directory inside {where}, given as "
            "an absolute or `~/` path (not a hidden directory of the home, not kimaki's own "
            "data); to add any other, run `kimaki project add PATH` on the machine"
        )

    def allowed(self, raw: str) -> Path | None:
        """The real directory `raw` names, if a Discord user may register it; else None."""
        path = self._absolute(raw.strip())
        if path is None:
            return None
        try:
            real = _real(path)
        except (OSError, ValueError):  # a symlink loop, a NUL byte
            return None
        if not self._permitted(real):
            return None
        return real if real.is_dir() else None

    def _absolute(self, text: str) -> Path | None:
        if text == "~" or text.startswith("~/"):
            return self.home / text[2:]
        return Path(text) if os.path.isabs(text) else None

    def _permitted(self, path: Path) -> bool:
        if path == Path(path.anchor) or path in self.roots:
            return False
        if not any(path.is_relative_to(root) for root in self.roots):
            return False
        if self._hidden_in_home(path):
            return False
        data = self.data_dir
        return not (path.is_relative_to(data) or data.is_relative_to(path))

    def _hidden_in_home(self, path: Path) -> bool:
        if path == self.home or not path.is_relative_to(self.home):
            return False
        return path.relative_to(self.home).parts[0].startswith(".")

    def _shown(self, path: Path) -> str:
        if path == self.home:
            return "~/"
        if path.is_relative_to(self.home):
            return f"~/{path.relative_to(self.home)}"
        return str(path)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))
