"""`kimaki demo`: kimaki, a local Discord (the twin) and the user's own OpenCode, in one process,
so a person can try kimaki in the browser without a Discord account.

`command.py` is the subcommand, `local.py` starts and stops the parts, `models.py` checks that
the user's OpenCode has a model to answer with.
"""
