"""The guided setup: the first run in a terminal, and `kimaki setup` any time after.

Steps, in order, each in its own module: token (pasted hidden, checked with Discord),
intent (Message Content on), public (a word if the bot is public), invite (the bot
joins a server, which becomes trusted), projects (channels for OpenCode's projects).
`flow` runs them; `ui` is the terminal; `discord_api` the three REST reads they need.
"""

STEP_NAMES = ("token", "intent", "public", "invite", "projects")
"""Here, apart from the steps, so the command line can name them without importing the
prompt library (which a normal start never needs)."""
