"""kimaki's own OpenCode configuration, given to the shared server through OPENCODE_CONFIG.

OpenCode merges config files, later ones winning key by key (1.18.33, documented at
opencode.ai/docs/config "Precedence order"): remote org config < the user's global
`~/.config/opencode/opencode.json` < **this file** (`OPENCODE_CONFIG`) < the project's
`opencode.json` and `.opencode/` < `OPENCODE_CONFIG_CONTENT`. So kimaki's defaults
override the user's global file, and a project's own rules still win over kimaki's.
The user's files are never edited.

kimaki allows `edit`, `bash` and `webfetch` (a person on a phone should not have to
approve every edit and command of a coding agent) and says nothing about the other
permissions (`read` of `.env`, `external_directory`, `doom_loop`, …): they follow the
user's rules, OpenCode's defaults, and prompt in the thread when they are `ask`.

The file is rewritten at every start unless the user changed it: then kimaki keeps
their version (delete it to get the default back).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kimaki.util.private_files import private_dir, write_private

FILENAME = "opencode-config.json"
DEFAULT_CONFIG: dict[str, Any] = {
    "$schema": "https://opencode.ai/config.json",
    "permission": {"edit": "allow", "bash": "allow", "webfetch": "allow"},
}
_MARKER = ".opencode-config.default"


def write_kimaki_config(data_dir: Path) -> Path:
    """Write the default file (unless the user edited it); return its path."""
    private_dir(data_dir)
    path = data_dir / FILENAME
    marker = data_dir / _MARKER  # the text kimaki last wrote: unchanged means not edited
    text = json.dumps(DEFAULT_CONFIG, indent=2) + "\n"
    edited = path.exists() and (not marker.exists() or path.read_text() != marker.read_text())
    if not edited:
        write_private(path, text)
        write_private(marker, text)
    return path


def opencode_config_env(data_dir: Path) -> dict[str, str]:
    """The environment that gives the shared server kimaki's config file."""
    return {"OPENCODE_CONFIG": str(write_kimaki_config(data_dir))}
