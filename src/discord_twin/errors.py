"""Discord-format errors: `{code, message, errors}` with the HTTP status Discord uses."""

from __future__ import annotations

from typing import Any

# JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_INTERACTION = 10062
UNAUTHORIZED = 0
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
INVALID_FORM_BODY = 50035
THREAD_LOCKED = 50083
ALREADY_ACKNOWLEDGED = 40060
REQUEST_TOO_LARGE = 40005
TOO_MANY_REACTIONS = 30010
TOO_MANY_APPLICATION_COMMANDS = 30032


class TwinError(Exception):
    """An error the twin answers in Discord's format; also raised by the control API."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def not_found(code: int, what: str) -> TwinError:
    return TwinError(404, code, f"Unknown {what}")


def invalid_form(field_path: str, code: str, message: str) -> TwinError:
    """400/50035 with the nested `errors` object Discord uses, e.g. `content` → `_errors`."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return TwinError(400, INVALID_FORM_BODY, "Invalid Form Body", errors)


def check_length(field_path: str, value: str, low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise invalid_form(
            field_path,
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between {low} and {high} in length.",
        )
