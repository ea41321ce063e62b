"""/model, /agent and `/<agent>-agent` end to end: what the scripted model is asked for."""

from __future__ import annotations

from discord_twin.state import Channel
from kimaki.opencode.models import Message, SessionID
from kimaki.store import GLOBAL_TARGET, ChannelID, Scope, ThreadID
from scripted_model import RecordedRequest, ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki
from tests.support.slash import choices, options_of, pick, press, slash
from tests.support.waiting import eventually

TIMEOUT = 60
VISION = "scripted/scripted-vision"
PLAIN = "scripted/scripted-1"


async def ask(
    running: Running, scripted_model: ScriptedModel, thread: Channel, words: str
) -> RecordedRequest:
    """Write `words` in the thread; the model's request for it, once the reply is posted."""
    scripted_model.add_rule(words, [text(f"answer to {words}")])
    since = running.twin.cursor()
    running.twin.user(running.owner).send(thread, words)
    request = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and words in r.prompt, timeout=TIMEOUT
    )
    await running.twin.wait_for_message(
        lambda m: f"answer to {words}" in m.content, channel=thread, since=since, timeout=TIMEOUT
    )
    return request


async def last_user_message(running: Running, session_id: SessionID) -> Message:
    messages = await running.app.opencode.all_messages(session_id, str(running.project))
    return [m for m in messages if m.info.role == "user"][-1]


async def test_model_in_each_scope_and_after_clear_is_what_the_model_is_asked_for(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    channel = running.channel
    scripted_model.add_rule("cmdm-first", [text("first answer")])

    shown = await slash(running, "model", channel=channel)
    assert f"model `{PLAIN}`, from OpenCode's default" in shown.content
    assert VISION in options_of(shown, "kimaki:c:model:channel:")
    assert "clear" in await choices(running, "model", {"model": "cl"}, "model", channel=channel)
    refused = await slash(running, "model", {"model": "scripted/none"}, channel=channel)
    assert "OpenCode has no model `scripted/none`" in refused.content

    chosen = await slash(running, "model", {"model": VISION}, channel=channel)
    assert f"the model for this channel is now `{VISION}`" in chosen.content
    assert options_of(chosen, "kimaki:c:variant:") == [
        f"{VISION}|{v}" for v in ("default", "low", "medium", "high")
    ]
    thread, record = await running.open_thread("cmdm-first go")
    first = await scripted_model.wait_for_request(
        lambda r: r.kind == "turn" and r.session_id == record.session_id, timeout=TIMEOUT
    )
    assert first.model == "scripted-vision"
    await running.twin.wait_for_message(
        lambda m: "first answer" in m.content, channel=thread, timeout=TIMEOUT
    )

    session = await slash(running, "model", {"model": PLAIN}, channel=thread)
    assert "the model for this session is now" in session.content
    assert (await ask(running, scripted_model, thread, "cmdm-two")).model == "scripted-1"

    cleared = await slash(running, "model", {"model": "clear"}, channel=thread)
    assert f"cleared the model chosen for this session; prompts here use model `{VISION}`" in (
        cleared.content
    )
    assert (await ask(running, scripted_model, thread, "cmdm-three")).model == "scripted-vision"

    await slash(running, "model", {"model": "clear", "scope": "channel"}, channel=thread)
    # OpenCode keeps a session's last model: kimaki names the default once to go back.
    assert (await ask(running, scripted_model, thread, "cmdm-four")).model == "scripted-1"

    picked = await slash(running, "model", {"scope": "global"}, channel=thread)
    with_variants = await pick(running, picked, "kimaki:c:model:global:", [VISION])
    assert "the model for every project (global) is now" in with_variants.content
    high = await pick(running, with_variants, "kimaki:c:variant:global:", [f"{VISION}|high"])
    assert "with variant `high`" in high.content
    request = await ask(running, scripted_model, thread, "cmdm-five")
    assert request.model == "scripted-vision" and request.body.get("reasoning_effort") == "high"
    again = await slash(running, "model", {"scope": "global"}, channel=channel)
    await press(running, again, "kimaki:b:model-clear:global:")
    assert running.app.store.prompt_overrides.get(Scope.GLOBAL, GLOBAL_TARGET) is None
    request = await ask(running, scripted_model, thread, "cmdm-six")
    assert request.model == "scripted-1" and "reasoning_effort" not in request.body

    wrong = await slash(running, "model", {"model": VISION, "scope": "session"}, channel=channel)
    assert "works in its thread" in wrong.content
    assert running.app.store.prompt_overrides.get(Scope.CHANNEL, str(channel.id)) is None


async def test_agent_and_quick_agent_commands_switch_and_send(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin, channel = running.twin, running.channel
    assert twin.seed is not None

    async def registered() -> set[str] | None:
        names = {c.name for c in twin.commands(twin.seed.guild)}  # type: ignore[union-attr]
        return names if {"plan-agent", "build-agent"} <= names else None

    names = await eventually(registered, timeout=TIMEOUT, what="the agent commands")
    assert {"model", "agent", "undo", "run-shell-command"} <= names
    assert "explore-agent" not in names and "title-agent" not in names

    thread, record = await running.open_thread("cmda-start")
    await twin.wait_for_message(
        lambda m: "cmda-start" in m.content, channel=thread, timeout=TIMEOUT
    )
    shown = await slash(running, "agent", channel=thread)
    assert "agent `build`, from OpenCode's default" in shown.content
    assert options_of(shown, "kimaki:c:agent:session:") == ["build", "plan"]
    switched = await slash(running, "agent", {"agent": "plan"}, channel=thread)
    assert "the agent for this session is now `plan`" in switched.content
    await ask(running, scripted_model, thread, "cmda-planned")
    assert (await last_user_message(running, record.session_id)).info.agent == "plan"

    scripted_model.add_rule("cmda-quick", [text("quick answer")])
    since = twin.cursor()
    quick = await slash(running, "build-agent", {"prompt": "cmda-quick hello"}, channel=thread)
    assert "the agent for this session is now `build`; sent your prompt" in quick.content
    await twin.wait_for_message(
        lambda m: "quick answer" in m.content, channel=thread, since=since, timeout=TIMEOUT
    )
    shown_prompt = [m.content for m in twin.messages(thread) if "cmda-quick" in m.content]
    assert (
        shown_prompt[0]
        == f"» **{running.owner.global_name or running.owner.username}:** cmda-quick hello"
    )
    user = await last_user_message(running, record.session_id)
    assert user.info.agent == "build" and user.text() == "cmda-quick hello"

    scripted_model.add_rule("cmda-new", [text("new answer")])
    since = twin.cursor()
    started = await slash(
        running, "plan-agent", {"prompt": "cmda-new in a thread"}, channel=channel
    )
    assert "started a session in" in started.content and "agent `plan`" in started.content
    new_thread = await twin.wait_for_thread(parent=channel, since=since, timeout=TIMEOUT)
    new_record = running.app.store.threads.get(ThreadID(new_thread.id))
    assert new_record is not None
    await twin.wait_for_message(
        lambda m: "new answer" in m.content, channel=new_thread, timeout=TIMEOUT
    )
    assert (await last_user_message(running, new_record.session_id)).info.agent == "plan"

    channel_wide = await slash(running, "plan-agent", channel=channel)
    assert "the agent for this channel is now `plan`" in channel_wide.content
    row = running.app.store.prompt_overrides.get(Scope.CHANNEL, str(ChannelID(channel.id)))
    assert row is not None and row.agent == "plan"
    cleared = await slash(running, "agent", {"agent": "clear"}, channel=channel)
    assert "cleared the agent chosen for this channel" in cleared.content
    unknown = await slash(running, "agent", {"agent": "explore"}, channel=channel)
    assert "no primary agent `explore`" in unknown.content
