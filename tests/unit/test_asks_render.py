"""What a prompt says: permission, patterns, tool call; questions with their answers."""

from __future__ import annotations

from kimaki.asks import permission_text, question_text
from kimaki.bot.prompts_ui import OTHER, chosen_labels, question_options, question_view
from kimaki.opencode.models import PermissionRequest, QuestionRequest


def test_permission_text_names_the_permission_patterns_and_tool_call() -> None:
    request = PermissionRequest.from_json(
        {
            "id": "per_1",
            "sessionID": "ses_1",
            "permission": "read",
            "patterns": ["/p/.env"],
            "always": ["*.env"],
            "metadata": {"filepath": "/p/.env"},
            "tool": {"messageID": "msg_1", "callID": "call_9"},
        }
    )
    text = permission_text(request)
    assert "`read`" in text and "`/p/.env`" in text and "`call_9`" in text
    assert "`*.env`" in text  # what "Accept always" would cover


def test_questions_render_options_and_answers_and_map_select_values() -> None:
    request = QuestionRequest.from_json(
        {
            "id": "que_1",
            "sessionID": "ses_1",
            "questions": [
                {
                    "question": "Which colour?",
                    "header": "Colour",
                    "options": [{"label": "Red", "description": "warm"}, {"label": "Blue"}],
                    "multiple": True,
                },
                {"question": "Name?", "header": "Name", "options": [], "custom": True},
            ],
        }
    )
    first, second = request.questions
    assert [o.value for o in question_options(first)] == ["o0", "o1", OTHER]
    assert question_options(first)[0].description == "warm"
    assert [o.value for o in question_options(second)] == [OTHER]
    assert chosen_labels(first, ["o1", OTHER, "o7"]) == ["Blue"]
    text = question_text(request.questions, [("Red", "Blue"), None])
    assert "**Colour**" in text and "Which colour?" in text and "→ **Red**, **Blue**" in text
    view = question_view(request.id, request.questions, [True, False])
    assert view is not None and [c.custom_id for c in view.children] == [  # type: ignore[attr-defined]
        "kimaki:q:que_1:1"
    ]
    assert question_view(request.id, request.questions, [True, True]) is None
