"""What a prompt can carry, and what the model then receives: files, system text, agent,
model, variant, noReply; and the usage OpenCode records for the answer."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from kimaki.opencode.models import FilePart, ModelRef, StepFinishPart, Tokens
from kimaki.opencode.prompt import FileInput, TextInput
from kimaki.opencode.rest import OpenCodeClient
from scripted_model import VISION_MODEL_ID, ScriptedModel, text
from tests.opencode.turns import run_turn
from tests.support.waiting import eventually

VISION = ModelRef("scripted", VISION_MODEL_ID)


def tiny_png() -> bytes:
    """A valid 1×1 PNG (OpenCode decodes images and refuses broken ones with 400)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def test_a_vision_model_sees_the_image_and_pdf_a_text_model_gets_a_note(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    png = tiny_png()
    image = FileInput.from_bytes(png, "image/png", "dot.png")
    pdf = FileInput.from_bytes(b"%PDF-1.4\n%%EOF\n", "application/pdf", "doc.pdf")
    seeing = await opencode.create_session(where)
    messages = await run_turn(
        opencode, seeing.id, where, [TextInput("fp-vision look"), image, pdf], model=VISION
    )
    stored = [p for p in messages[0].parts if isinstance(p, FilePart)]
    assert [(p.mime, p.filename) for p in stored] == [
        ("image/png", "dot.png"),
        ("application/pdf", "doc.pdf"),
    ]
    request = await scripted_model.wait_for_request(
        lambda r: r.session_id == seeing.id and r.kind == "turn"
    )
    assert request.model == VISION_MODEL_ID
    assert [(a.kind, a.mime, a.filename, a.data) for a in request.attachments] == [
        ("image", "image/png", None, png),
        ("file", "application/pdf", "doc.pdf", b"%PDF-1.4\n%%EOF\n"),
    ]

    blind = await opencode.create_session(where)
    await run_turn(opencode, blind.id, where, [TextInput("fp-blind look"), image])
    request = await scripted_model.wait_for_request(
        lambda r: r.session_id == blind.id and r.kind == "turn"
    )
    assert request.attachments == []
    note = request.messages[-1]["content"][-1]["text"]
    assert note == 'ERROR: Cannot read "dot.png" (this model does not support image input). ' + (
        "Inform the user."
    )


async def test_a_file_url_text_file_is_inlined_by_opencode(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    project = make_project()
    notes = project / "notes.txt"
    notes.write_text("fp-inline secret line\n")
    session = await opencode.create_session(str(project))
    part = FileInput.from_path(notes, "text/plain")
    assert part.url == notes.as_uri() and part.filename == "notes.txt"
    await run_turn(opencode, session.id, str(project), [TextInput("fp-inline read"), part])
    request = await scripted_model.wait_for_request(
        lambda r: r.session_id == session.id and r.kind == "turn"
    )
    sent = "\n".join(c["text"] for c in request.messages[-1]["content"] if c["type"] == "text")
    assert "Called the Read tool" in sent and "fp-inline secret line" in sent


async def test_system_agent_variant_and_no_reply(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    session = await opencode.create_session(where)
    messages = await run_turn(
        opencode,
        session.id,
        where,
        "fp-options first",
        agent="plan",
        model=VISION,
        variant="high",
        system="FP-EXTRA-SYSTEM",
    )
    user, reply = messages[0].info, messages[-1].info
    assert (user.agent, user.model, user.variant) == ("plan", VISION, "high")
    assert user.raw["system"] == "FP-EXTRA-SYSTEM"
    assert (reply.agent, reply.model, reply.variant) == ("plan", VISION, "high")
    request = await scripted_model.wait_for_request(
        lambda r: r.session_id == session.id and r.kind == "turn"
    )
    assert request.body["reasoning_effort"] == "high"
    assert request.body["max_tokens"] == 8_192  # the model's limit.output
    assert request.body["stream_options"] == {"include_usage": True}
    [system] = [m for m in request.messages if m["role"] == "system"]
    assert "FP-EXTRA-SYSTEM" in system["content"]

    # The model sticks to the session; agent and variant hold for one prompt only.
    again = await run_turn(opencode, session.id, where, "fp-options second")
    assert (again[-1].info.agent, again[-1].info.model, again[-1].info.variant) == (
        "build",
        VISION,
        None,
    )
    turns = len([r for r in scripted_model.requests if r.session_id == session.id])
    await opencode.prompt_async(session.id, where, [TextInput("fp-silent")], no_reply=True)

    async def stored() -> bool:
        last = (await opencode.messages(session.id, where)).messages[-1]
        return last.text() == "fp-silent"

    await eventually(stored, what="the noReply message")
    assert (await opencode.status(where)).get(session.id) is None
    assert len([r for r in scripted_model.requests if r.session_id == session.id]) == turns


async def test_usage_becomes_tokens_and_cost(
    opencode: OpenCodeClient, scripted_model: ScriptedModel, make_project: Callable[[], Path]
) -> None:
    where = str(make_project())
    scripted_model.add_rule(
        "fp-usage",
        [text("counted").with_usage(1000, 50, cached_tokens=200, reasoning_tokens=10)],
    )
    session = await opencode.create_session(where)
    messages = await run_turn(opencode, session.id, where, "fp-usage please", model=VISION)
    reply = messages[-1]
    expected = Tokens(input=800, output=40, reasoning=10, cache_read=200)
    assert reply.info.tokens == expected
    assert reply.info.raw["tokens"]["total"] == 1050
    model = (await opencode.providers(where)).model(VISION)
    assert model is not None
    assert reply.info.cost is not None
    assert abs(reply.info.cost - model.cost.of(expected)) < 1e-12
    [finish] = [p for p in reply.parts if isinstance(p, StepFinishPart)]
    assert (finish.reason, finish.tokens, finish.cost) == ("stop", expected, reply.info.cost)
    totals = await opencode.session(session.id, where)
    assert totals.tokens == expected and totals.cost == reply.info.cost
    assert model.context_limit is not None
    assert model.context_percent(expected) == 100.0 * 1050 / model.context_limit
