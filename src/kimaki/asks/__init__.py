"""Permission and question prompts: an agent waiting on a person, answered from the thread.

`Asks` owns every pending prompt of every thread, whoever started the session (Discord,
or a terminal attached to the shared server and mirrored by sync):

- **posting**: `permission.asked` / `question.asked` (or, at start and after an event
  stream reconnect, `GET /permission` and `GET /question`) → a row in the `prompts`
  table, *then* one message with buttons or menus, sent with a nonce derived from the
  request id, then the message id recorded. A crash anywhere re-sends with the same
  nonce (Discord returns the first message) or finds the row and posts nothing: a
  restart re-binds, it never posts twice. Asks for the same thing in one thread (same
  session, permission and patterns) share the first ask's message and are answered
  together.
- **answering**: a click, pick or modal arrives through `kimaki.bot.prompt_handlers`,
  after the gate (`kimaki.bot.gate`) admitted the person, and ends here as a decision
  (`decide_permission`, `answer_question`) made with the person's name. **Deny** rejects at once;
  **Deny with reason…** (or the next message written in the thread meanwhile) carries words
  to the agent. The row is claimed first (`decide`, so two quick clicks answer once),
  then OpenCode is told, then the message is edited to say who decided what and when.
  If OpenCode cannot be reached the claim is undone and the buttons keep working.
- **time limit**: a permission left unanswered for `--permission-timeout` minutes
  (counted from when it was first recorded, across restarts) is denied with a message
  that tells the model why, and its prompt says it expired.
- **typing**: while a thread has a pending prompt its bridge shows no typing (the agent
  is not working, it is waiting on a person).

This package never touches Discord: it says what a prompt shows through a
`PromptBoard` (`board.py`), which the bot implements. Events arrive through `take`,
queued per session and handled in tasks of their own (a slow parent lookup or a slow
post delays no other session); posting is serialized per thread.

Why not the outbox: outbox rows are plain text posted in order and never touched again;
a prompt carries components, is edited when answered and must be found again by its
request id. It gets its own small table and send path, with the same write-first,
deterministic-nonce discipline (`store.prompts`).
"""

from __future__ import annotations

from kimaki.asks.board import Controls, PermissionButtons, PromptBoard, QuestionMenus
from kimaki.asks.service import Asks, Choose
from kimaki.asks.texts import permission_text, question_text, timeout_message

__all__ = [
    "Asks",
    "Choose",
    "Controls",
    "PermissionButtons",
    "PromptBoard",
    "QuestionMenus",
    "permission_text",
    "question_text",
    "timeout_message",
]
