"""The aiohttp server that answers OpenCode as an OpenAI-compatible model, following rules."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import sse
from .attachments import Attachment, attachments
from .rules import DefaultReply, Matcher, Rule, Selection, echo_reply, select
from .steps import BrokenStream, HttpFault, Step

MODEL_ID = "scripted-1"
# OpenCode 1.18.33 names the session in every provider request (also title and summary ones).
SESSION_HEADER = "x-session-id"
log = logging.getLogger(__name__)


@dataclass
class RecordedRequest:
    """One request as the model saw it, for tests to assert on.

    Recorded when it arrives; ``status`` and ``finished`` are filled in once the answer is sent
    (``finished`` is set for every request, also when the client went away). ``paused`` is set
    while a held step waits at its gate, so a test can act while the model is mid-stream.
    """

    body: dict[str, Any]
    selection: Selection
    time: float
    session_id: str | None = None
    status: int = 200
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    paused: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def kind(self) -> str:
        return self.selection.kind

    @property
    def prompt(self) -> str:
        return self.selection.prompt

    @property
    def rule(self) -> Rule | None:
        return self.selection.rule

    @property
    def step_index(self) -> int:
        return self.selection.step_index

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages", [])
        return messages if isinstance(messages, list) else []

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def attachments(self) -> list[Attachment]:
        """The image and file content parts this request carried (in every message)."""
        return attachments(self.messages)


@dataclass(frozen=True)
class Overlap:
    """Two turn requests of one OpenCode session streaming at the same time."""

    session_id: str
    running: RecordedRequest
    second: RecordedRequest


class ScriptedModel:
    """A scripted OpenAI-compatible chat model on 127.0.0.1 for OpenCode to talk to."""

    def __init__(self, default: DefaultReply = echo_reply, model_id: str = MODEL_ID) -> None:
        self.default = default
        self.model_id = model_id
        self.rules: list[Rule] = []
        self.requests: list[RecordedRequest] = []
        self.overlaps: list[Overlap] = []
        self._streaming: dict[str, RecordedRequest] = {}
        self._errors_served: dict[tuple[int, int, str], int] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------------------

    def add_rule(
        self, match: Matcher | None, steps: Sequence[Step], title: str | None = None
    ) -> Rule:
        """Script turns whose newest user message matches; ``None`` matches everything.
        The newest matching rule wins."""
        rule = Rule(match, list(steps), title)
        self.rules.append(rule)
        return rule

    def remove_rule(self, rule: Rule) -> None:
        self.rules.remove(rule)

    def reset(self) -> None:
        """Forget rules and recorded requests, e.g. between tests sharing one model."""
        self.rules.clear()
        self.requests.clear()
        self.overlaps.clear()
        self._errors_served.clear()

    def overlaps_of(self, session_id: str) -> list[Overlap]:
        """Times two turns of this session streamed at once (OpenCode never should)."""
        return [o for o in self.overlaps if o.session_id == session_id]

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool] = lambda r: True,
        timeout: float = 30.0,
    ) -> RecordedRequest:
        """The first recorded request (already seen or still to come) matching ``predicate``."""

        def found() -> RecordedRequest | None:
            return next((r for r in self.requests if predicate(r)), None)

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        hit = found()
        assert hit is not None
        return hit

    def turn_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.kind == "turn"]

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; held gates are released so open streams can finish."""
        for request in self.requests:
            gate = request.selection.step.gate
            if gate is not None:
                gate.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedModel:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP ----------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        model = {"id": self.model_id, "object": "model", "created": 0, "owned_by": "scripted"}
        return web.json_response({"object": "list", "data": [model]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            return web.json_response({"error": {"message": "messages missing"}}, status=400)
        selection = select(messages, self.rules, self.default)
        session_id = request.headers.get(SESSION_HEADER)
        recorded = RecordedRequest(body, selection, time.time(), session_id)
        await self._record(recorded)
        try:
            return await self._answer(request, recorded)
        finally:
            recorded.finished.set()
            if session_id and self._streaming.get(session_id) is recorded:
                del self._streaming[session_id]
            async with self._changed:
                self._changed.notify_all()

    async def _record(self, recorded: RecordedRequest) -> None:
        self.requests.append(recorded)
        session_id = recorded.session_id
        if session_id and recorded.kind == "turn":
            # Title requests run beside the first turn by design; two turns never should.
            running = self._streaming.get(session_id)
            if running is not None and not running.finished.is_set():
                self.overlaps.append(Overlap(session_id, running, recorded))
                log.error("two turns of session %s stream at once", session_id)
            self._streaming[session_id] = recorded
        async with self._changed:
            self._changed.notify_all()

    async def _answer(self, request: web.Request, recorded: RecordedRequest) -> web.StreamResponse:
        step = recorded.selection.step
        fault = step.fault if step.fault and self._should_fail(recorded) else None
        if isinstance(fault, HttpFault):
            recorded.status = fault.status
            return web.json_response(fault.body(), status=fault.status, headers=dict(fault.headers))
        completion_id = f"chatcmpl-{next(self._ids)}"
        call_ids = [f"call_{next(self._ids)}" for _ in step.tool_calls]
        model = recorded.model or self.model_id
        if not recorded.body.get("stream"):
            return web.json_response(sse.completion(step, completion_id, model, call_ids))
        if isinstance(fault, BrokenStream):
            return await self._break(request, step, fault, completion_id, model, call_ids)
        return await self._stream(request, recorded, completion_id, model, call_ids)

    def _should_fail(self, recorded: RecordedRequest) -> bool:
        """Fail the first ``error_times`` identical requests (a retry repeats the same body)."""
        digest = hashlib.sha256(json.dumps(recorded.messages, sort_keys=True).encode()).hexdigest()
        sel = recorded.selection
        key = (id(sel.rule), sel.step_index, digest)
        served = self._errors_served.get(key, 0)
        if served >= sel.step.error_times:
            return False
        self._errors_served[key] = served + 1
        return True

    async def _stream(
        self,
        request: web.Request,
        recorded: RecordedRequest,
        completion_id: str,
        model: str,
        call_ids: list[str],
    ) -> web.StreamResponse:
        """Stream the step; whatever happens, try to end with a finish reason and ``[DONE]``."""
        step = recorded.selection.step
        response = await _start_stream(request)
        reason = "stop"
        try:
            chunks = sse.content_chunks(step, completion_id, model, call_ids)
            hold_after = 1 if step.reasoning or step.text or step.tool_calls else 0
            for n, chunk in enumerate(chunks):
                if n > 0 and step.chunk_delay:
                    await asyncio.sleep(step.chunk_delay)
                await response.write(sse.encode(chunk))
                if n == hold_after and step.gate is not None:
                    recorded.paused.set()
                    await _held(step.gate, request)
                    recorded.paused.clear()
            reason = step.finish_reason
        except ConnectionResetError:
            log.debug("client left mid-stream")
        except Exception:
            log.exception("scripted stream broke off; finishing it anyway")
        finally:
            with contextlib.suppress(Exception):
                finish = sse.finish_chunk(completion_id, model, reason, step.usage)
                await response.write(sse.encode(finish))
                await response.write(sse.DONE)
                await response.write_eof()
        return response

    async def _break(
        self,
        request: web.Request,
        step: Step,
        fault: BrokenStream,
        completion_id: str,
        model: str,
        call_ids: list[str],
    ) -> web.StreamResponse:
        """Send the role chunk and ``fault.after`` content chunks, then drop the connection."""
        response = await _start_stream(request)
        chunks = sse.content_chunks(step, completion_id, model, call_ids)
        for chunk in itertools.islice(chunks, fault.after + 1):
            await response.write(sse.encode(chunk))
        await asyncio.sleep(0.05)  # let the partial content reach the client first
        if request.transport is not None:
            request.transport.close()
        return response


async def _held(gate: asyncio.Event, request: web.Request) -> None:
    """Wait at a held step's gate; a client that leaves meanwhile (OpenCode aborting the
    turn) ends the stream, so an aborted turn is not still "streaming" here."""
    while not gate.is_set():
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client left while the step was held")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gate.wait(), 0.05)


async def _start_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    return response
