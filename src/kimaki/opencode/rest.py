"""The REST calls kimaki makes to the shared OpenCode server (facts in README.md).

Each method names the directory of the instance it is about; reads return typed models
that keep the raw JSON. Calls that run a whole turn before answering (`command`,
`shell`, `summarize`) take a long timeout of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.models import (
    Agent,
    Command,
    FileDiff,
    Health,
    Message,
    MessageID,
    MessagePage,
    ModelRef,
    OpenCodeConfig,
    PartID,
    PermissionID,
    PermissionRequest,
    Project,
    ProviderCatalog,
    QuestionID,
    QuestionRequest,
    Session,
    SessionID,
    SessionPage,
    SessionStatus,
    Skill,
)
from kimaki.opencode.prompt import PromptPart
from kimaki.opencode.transport import Transport, as_list, as_mapping, flags

PermissionReply = Literal["once", "always", "reject"]
TURN_TIMEOUT = 3600.0


class OpenCodeClient(Transport):
    """kimaki's view of OpenCode's REST API."""

    async def __aenter__(self) -> OpenCodeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- server and catalog

    async def health(self) -> Health:
        return Health.from_json(await self._json("GET", "/global/health", timeout=5))

    async def paths(self) -> dict[str, str]:
        """The server's own directories: `home`, `state`, `config` (and the instance's
        `worktree`, `directory`); its data directory is not among them."""
        data = as_mapping(await self._json("GET", "/path", timeout=5))
        return {k: v for k, v in data.items() if isinstance(v, str)}

    async def projects(self) -> list[Project]:
        return [Project.from_json(p) for p in as_list(await self._json("GET", "/project"))]

    async def config(self, directory: str) -> OpenCodeConfig:
        data = await self._json("GET", "/config", directory=directory)
        return OpenCodeConfig.from_json(as_mapping(data))

    async def agents(self, directory: str) -> list[Agent]:
        data = await self._json("GET", "/agent", directory=directory)
        return [Agent.from_json(a) for a in as_list(data)]

    async def providers(self, directory: str) -> ProviderCatalog:
        """Connected providers and their models (`GET /provider` lists every known one: MBs)."""
        data = await self._json("GET", "/config/providers", directory=directory)
        return ProviderCatalog.from_json(as_mapping(data))

    async def commands(self, directory: str) -> list[Command]:
        """Slash commands, skills (`source: skill`) and MCP prompts (`source: mcp`)."""
        data = await self._json("GET", "/command", directory=directory)
        return [Command.from_json(c) for c in as_list(data)]

    async def skills(self, directory: str) -> list[Skill]:
        return [
            Skill.from_json(s)
            for s in as_list(await self._json("GET", "/skill", directory=directory))
        ]

    async def find_files(
        self, directory: str, query: str, *, limit: int | None = None, dirs: bool = False
    ) -> list[str]:
        """Paths relative to `directory` whose names match `query` (fuzzy, best first)."""
        params = flags(query=query, limit=limit, dirs=dirs)
        data = await self._json("GET", "/find/file", directory=directory, params=params)
        if not isinstance(data, list):
            raise OpenCodeError(f"expected a JSON list, got {type(data).__name__}")
        return [p for p in data if isinstance(p, str)]

    # --- sessions

    async def sessions(
        self,
        directory: str,
        *,
        roots: bool = False,
        start: int | None = None,
        limit: int | None = None,
        search: str | None = None,
    ) -> list[Session]:
        """Sessions whose directory is exactly `directory`, newest `time.updated` first."""
        params = flags(roots=roots or None, start=start, limit=limit, search=search or None)
        data = await self._json("GET", "/session", directory=directory, params=params)
        return [Session.from_json(s) for s in as_list(data)]

    async def all_sessions(
        self,
        *,
        roots: bool = False,
        start: int | None = None,
        limit: int | None = None,
        cursor: int | None = None,
        search: str | None = None,
        archived: bool = False,
        timeout: float | None = None,
    ) -> SessionPage:
        """Sessions of every directory (`GET /experimental/session`), newest updated first.

        `start` keeps `time.updated >= start`; `archived` adds archived sessions to the rest.
        """
        params = flags(
            roots=roots or None,
            start=start,
            limit=limit,
            cursor=cursor,
            search=search or None,
            archived=archived or None,
        )
        data, headers = await self._request(
            "GET", "/experimental/session", params=params, timeout=timeout
        )
        sessions = tuple(Session.from_json(s) for s in as_list(data))
        cursor_text = headers.get("x-next-cursor")
        return SessionPage(sessions, int(cursor_text) if cursor_text else None)

    async def session(self, session_id: SessionID, directory: str) -> Session:
        data = await self._json("GET", f"/session/{session_id}", directory=directory)
        return Session.from_json(as_mapping(data))

    async def children(self, session_id: SessionID, directory: str) -> list[Session]:
        """Sessions whose `parentID` is this one (subagent runs; forks are not children)."""
        data = await self._json("GET", f"/session/{session_id}/children", directory=directory)
        return [Session.from_json(s) for s in as_list(data)]

    async def create_session(
        self, directory: str, *, title: str | None = None, parent_id: SessionID | None = None
    ) -> Session:
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if parent_id is not None:
            body["parentID"] = parent_id
        data = await self._json("POST", "/session", directory=directory, body=body)
        return Session.from_json(as_mapping(data))

    async def update_session(
        self,
        session_id: SessionID,
        directory: str,
        *,
        title: str | None = None,
        archived: int | None = None,
    ) -> Session:
        """Rename, or archive (`archived` = time in ms; archived sessions leave the lists)."""
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if archived is not None:
            body["time"] = {"archived": archived}
        data = await self._json("PATCH", f"/session/{session_id}", directory=directory, body=body)
        return Session.from_json(as_mapping(data))

    async def fork(
        self, session_id: SessionID, directory: str, *, message_id: MessageID | None = None
    ) -> Session:
        """A new root session with the messages *before* `message_id` (all when None)."""
        body = {"messageID": message_id} if message_id else {}
        data = await self._session_call("POST", session_id, "fork", directory, body)
        return Session.from_json(as_mapping(data))

    async def revert(
        self,
        session_id: SessionID,
        directory: str,
        message_id: MessageID,
        *,
        part_id: PartID | None = None,
    ) -> Session:
        """Undo `message_id` and everything after it, files included (409 while busy)."""
        body: dict[str, Any] = {"messageID": message_id}
        if part_id is not None:
            body["partID"] = part_id
        data = await self._session_call("POST", session_id, "revert", directory, body)
        return Session.from_json(as_mapping(data))

    async def unrevert(self, session_id: SessionID, directory: str) -> Session:
        """Restore what the last revert undid (a no-op once a new prompt was sent)."""
        data = await self._session_call("POST", session_id, "unrevert", directory)
        return Session.from_json(as_mapping(data))

    async def summarize(self, session_id: SessionID, directory: str, model: ModelRef) -> bool:
        """Compact the session with `model`; answers once the summary is written."""
        body = {"providerID": model.provider_id, "modelID": model.model_id}
        data = await self._session_call(
            "POST", session_id, "summarize", directory, body, timeout=TURN_TIMEOUT
        )
        return data is True

    async def share(self, session_id: SessionID, directory: str) -> Session:
        """Share; `share_url` stays None when OPENCODE_DISABLE_SHARE is set (HTTP 500 when
        the config says `share: "disabled"` or the share service is unreachable)."""
        data = await self._session_call("POST", session_id, "share", directory)
        return Session.from_json(as_mapping(data))

    async def unshare(self, session_id: SessionID, directory: str) -> Session:
        data = await self._session_call("DELETE", session_id, "share", directory)
        return Session.from_json(as_mapping(data))

    async def diff(
        self, session_id: SessionID, directory: str, *, message_id: MessageID | None = None
    ) -> list[FileDiff]:
        """Files one user message's turn changed (empty without `message_id`)."""
        params = flags(messageID=message_id)
        data = await self._json(
            "GET", f"/session/{session_id}/diff", directory=directory, params=params
        )
        return [FileDiff.from_json(d) for d in as_list(data)]

    async def vcs_diff(
        self, directory: str, mode: Literal["git", "branch"] = "git"
    ) -> list[FileDiff]:
        """The working tree against HEAD (`git`, untracked files too) or the default branch."""
        data = await self._json("GET", "/vcs/diff", directory=directory, params={"mode": mode})
        return [FileDiff.from_json(d) for d in as_list(data)]

    # --- messages and turns

    async def messages(
        self,
        session_id: SessionID,
        directory: str,
        *,
        limit: int | None = None,
        before: str | None = None,
    ) -> MessagePage:
        """The newest `limit` messages (oldest first); `before` pages back in time."""
        data, headers = await self._request(
            "GET",
            f"/session/{session_id}/message",
            directory=directory,
            params=flags(limit=limit, before=before),
        )
        messages = tuple(Message.from_json(m) for m in as_list(data))
        return MessagePage(messages, headers.get("x-next-cursor") or None)

    async def all_messages(
        self, session_id: SessionID, directory: str, *, page_size: int = 100
    ) -> list[Message]:
        """Every message of a session, oldest first, read page by page."""
        pages: list[tuple[Message, ...]] = []
        cursor: str | None = None
        while True:
            page = await self.messages(session_id, directory, limit=page_size, before=cursor)
            pages.append(page.messages)
            if not page.next_cursor or not page.messages:
                break
            cursor = page.next_cursor
        return [m for page in reversed(pages) for m in page]

    async def status(self, directory: str) -> dict[SessionID, SessionStatus]:
        """Busy and retrying sessions of this instance (idle ones are absent)."""
        data = as_mapping(await self._json("GET", "/session/status", directory=directory))
        return {
            SessionID(k): SessionStatus.from_json(v)
            for k, v in data.items()
            if isinstance(v, Mapping)
        }

    async def prompt_async(
        self,
        session_id: SessionID,
        directory: str,
        parts: Sequence[PromptPart],
        *,
        agent: str | None = None,
        model: tuple[str, str] | None = None,
        variant: str | None = None,
        system: str | None = None,
        no_reply: bool = False,
    ) -> None:
        """Queue a prompt; OpenCode answers 204 at once and runs it (after a busy turn).

        `agent`, `model` and `variant` apply to this prompt only (the next one without them
        gets the defaults again); an unknown agent or model fails later, as a
        `session.error` event. `system` is added to the system prompt; `no_reply` stores the
        message without running a turn.
        """
        body: dict[str, Any] = {"parts": [p.to_json() for p in parts]}
        if agent is not None:
            body["agent"] = agent
        if model is not None:
            body["model"] = ModelRef(*model).to_json()
        if variant is not None:
            body["variant"] = variant
        if system is not None:
            body["system"] = system
        if no_reply:
            body["noReply"] = True
        await self._request(
            "POST", f"/session/{session_id}/prompt_async", directory=directory, body=body
        )

    async def command(
        self,
        session_id: SessionID,
        directory: str,
        command: str,
        arguments: str = "",
        *,
        agent: str | None = None,
        model: ModelRef | None = None,
        variant: str | None = None,
    ) -> Message:
        """Run an OpenCode command as a prompt (its template with `$ARGUMENTS` filled in);
        answers with the assistant message once the turn is over."""
        body: dict[str, Any] = {"command": command, "arguments": arguments}
        if agent is not None:
            body["agent"] = agent
        if model is not None:
            body["model"] = str(model)
        if variant is not None:
            body["variant"] = variant
        data = await self._session_call(
            "POST", session_id, "command", directory, body, timeout=TURN_TIMEOUT
        )
        return Message.from_json(as_mapping(data))

    async def shell(
        self, session_id: SessionID, directory: str, command: str, *, agent: str = "build"
    ) -> Message:
        """Run `command` with the agent's bash tool, without the model; stored in the session
        (the model sees it next turn). stdout and stderr come merged, without the exit code."""
        body = {"agent": agent, "command": command}
        data = await self._session_call(
            "POST", session_id, "shell", directory, body, timeout=TURN_TIMEOUT
        )
        return Message.from_json(as_mapping(data))

    async def abort(self, session_id: SessionID, directory: str) -> bool:
        data = await self._json("POST", f"/session/{session_id}/abort", directory=directory)
        return data is True

    # --- permissions and questions

    async def permissions(self, directory: str | None = None) -> list[PermissionRequest]:
        data = await self._json("GET", "/permission", directory=directory)
        return [PermissionRequest.from_json(p) for p in as_list(data)]

    async def reply_permission(
        self,
        request_id: PermissionID,
        reply: PermissionReply,
        *,
        message: str | None = None,
        directory: str | None = None,
    ) -> bool:
        body: dict[str, Any] = {"reply": reply}
        if message:
            body["message"] = message
        data = await self._json(
            "POST", f"/permission/{request_id}/reply", directory=directory, body=body
        )
        return data is True

    async def questions(self, directory: str | None = None) -> list[QuestionRequest]:
        data = await self._json("GET", "/question", directory=directory)
        return [QuestionRequest.from_json(q) for q in as_list(data)]

    async def reply_question(
        self,
        request_id: QuestionID,
        answers: Sequence[Sequence[str]],
        *,
        directory: str | None = None,
    ) -> bool:
        body = {"answers": [list(a) for a in answers]}
        data = await self._json(
            "POST", f"/question/{request_id}/reply", directory=directory, body=body
        )
        return data is True

    # --- plumbing

    async def _session_call(
        self,
        method: str,
        session_id: SessionID,
        action: str,
        directory: str,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        path = f"/session/{session_id}/{action}"
        return await self._json(method, path, directory=directory, body=body, timeout=timeout)
