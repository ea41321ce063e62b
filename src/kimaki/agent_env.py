"""The environment of processes kimaki starts for the agent: the user's, minus kimaki's secrets.

The shared OpenCode server passes its environment on to every shell command the agent
runs, and anyone who can prompt the agent (or a web page it reads) can ask it to run
`env`. So kimaki names what to drop rather than what to keep: the agent still sees the
user's normal environment (PATH, proxies, toolchains, API keys for the model), but no
`KIMAKI_*` variable (the bot token, kimaki's settings) and no variable, whatever its
name, whose value holds a secret kimaki knows (a token exported under another name).

Every process kimaki starts on the agent's behalf takes its environment from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kimaki.util.redaction import SECRETS

DROPPED_PREFIXES = ("KIMAKI_",)


def agent_environment(
    base: Mapping[str, str], secrets: Iterable[str] | None = None
) -> dict[str, str]:
    """`base` without kimaki's variables and without any value carrying a secret.

    `secrets` defaults to every secret this process has learned (see util.redaction).
    """
    hidden = tuple(SECRETS.values if secrets is None else secrets)
    return {
        name: value
        for name, value in base.items()
        if not name.upper().startswith(DROPPED_PREFIXES)
        and not any(s and s in value for s in hidden)
    }
