"""Every access rule through the real gateway: who may start or drive a session, who is refused."""

from __future__ import annotations

from typing import Any

import pytest

from discord_twin import Twin
from kimaki.opencode.models import SessionID
from kimaki.store import ChannelID, ThreadID
from scripted_model import ScriptedModel, text
from tests.support.kimaki_app import Running, StartKimaki

ADMINISTRATOR = 0x8
MANAGE_GUILD = 0x20
TIMEOUT = 60


def member(twin: Twin, name: str, *, permissions: int = 0, role: str | None = None) -> Any:
    assert twin.seed is not None
    guild = twin.seed.guild
    user = twin.create_user(name)
    roles = []
    if role is not None or permissions:
        roles.append(twin.create_role(guild, role or f"{name}-role", permissions=permissions))
    twin.add_member(guild, user, roles=roles)
    return user


async def sessions_in_project(running: Running) -> list[SessionID]:
    listed = await running.app.opencode.sessions(str(running.project), roots=True)
    return [s.id for s in listed]


async def starts_a_thread(running: Running, user: Any, prompt: str) -> bool:
    """Send `prompt` as `user`; True if kimaki opened a thread, False if it refused."""
    twin = running.twin
    since = twin.cursor()
    sent = twin.user(user).send(running.channel, prompt)
    # A thread started from a message has the message's id; a refusal replies to it.
    reply = await twin.wait_for_message(
        lambda m: m.reference_message_id == sent.id or m.channel_id == sent.id,
        since=since,
        timeout=TIMEOUT,
    )
    if reply.reference_message_id == sent.id:
        assert reply.content.startswith("⬦ kimaki: ")
        return False
    return True


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("owner", True),
        ("admin", True),
        ("manager", True),
        ("kimaki-role", True),
        ("plain", False),
        ("blocked", False),
    ],
)
async def test_who_may_start_a_session(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel, who: str, allowed: bool
) -> None:
    running = await start_kimaki()
    twin = running.twin
    users = {
        "owner": running.owner,
        "admin": lambda: member(twin, "ada", permissions=ADMINISTRATOR),
        "manager": lambda: member(twin, "max", permissions=MANAGE_GUILD),
        "kimaki-role": lambda: member(twin, "kim", role="Kimaki"),
        "plain": lambda: member(twin, "pat"),
        "blocked": lambda: member(twin, "bob", role="no-kimaki", permissions=ADMINISTRATOR),
    }
    user = users[who] if who == "owner" else users[who]()  # type: ignore[operator]
    scripted_model.add_rule("pi-access", [text("allowed reply")])
    assert await starts_a_thread(running, user, f"pi-access from {who}") is allowed
    if not allowed:
        assert await sessions_in_project(running) == [], "nothing may reach OpenCode"


async def test_allow_all_users_still_refuses_no_kimaki(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki(KIMAKI_ALLOW_ALL_USERS="1")
    plain = member(running.twin, "pam")
    blocked = member(running.twin, "ned", role="no-kimaki")
    scripted_model.add_rule("rho-all", [text("ok")])
    assert await starts_a_thread(running, plain, "rho-all plain member")
    before = await sessions_in_project(running)
    assert not await starts_a_thread(running, blocked, "rho-all blocked member")
    assert await sessions_in_project(running) == before


async def test_a_refused_member_cannot_drive_a_thread_or_use_commands(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    running = await start_kimaki()
    twin = running.twin
    scripted_model.add_rule("sigma-owner", [text("owner's reply")])
    since = twin.cursor()
    twin.user(running.owner).send(running.channel, "sigma-owner starts")
    thread = await twin.wait_for_thread(parent=running.channel, since=since, timeout=TIMEOUT)
    await twin.wait_for_message(
        lambda m: "owner's reply" in m.content, channel=thread, timeout=TIMEOUT
    )
    record = running.app.store.threads.get(ThreadID(thread.id))
    assert record is not None
    before = await running.app.opencode.all_messages(record.session_id, str(running.project))

    plain = member(twin, "quinn")
    sent = twin.user(plain).send(thread, "sigma-intruder: run rm -rf /")
    refusal = await twin.wait_for_message(
        lambda m: m.reference_message_id == sent.id, channel=thread, timeout=TIMEOUT
    )
    assert "Kimaki" in refusal.content
    handle = twin.user(plain).slash("abort", channel=thread)
    await handle.wait_response(timeout=TIMEOUT)
    assert handle.message() is not None and "kimaki:" in handle.message().content  # type: ignore[union-attr]

    after = await running.app.opencode.all_messages(record.session_id, str(running.project))
    assert [m.info.id for m in after] == [m.info.id for m in before]


async def test_every_registered_command_is_behind_the_gate(
    start_kimaki: StartKimaki, scripted_model: ScriptedModel
) -> None:
    """No command checks access itself, so each one, present or added later, must be
    refused by the gate: a refused member runs them all and changes nothing."""
    running = await start_kimaki()
    twin = running.twin
    scripted_model.add_rule("tau-gate", [text("gated reply")])
    since = twin.cursor()
    twin.user(running.owner).send(running.channel, "tau-gate starts")
    thread = await twin.wait_for_thread(parent=running.channel, since=since, timeout=TIMEOUT)
    await twin.wait_for_message(
        lambda m: "gated reply" in m.content, channel=thread, timeout=TIMEOUT
    )
    projects = running.app.store.projects.all()
    verbosity = running.app.store.channel_settings.verbosity(ChannelID(running.channel.id))

    plain = member(twin, "uma")
    commands = running.app.bot.tree.get_commands()
    assert {c.name for c in commands} >= {"add-project", "abort", "resume", "verbosity"}
    for command in commands:
        options: dict[str, Any] = {}
        for parameter in getattr(command, "parameters", []):
            if parameter.required:
                choices = parameter.choices
                options[parameter.name] = choices[0].value if choices else str(running.project)
        where = thread if command.name in ("abort", "session-id") else running.channel
        handle = twin.user(plain).slash(command.name, options, channel=where)
        await handle.wait_response(timeout=TIMEOUT)
        answer = handle.message()
        assert answer is not None and answer.content.startswith("⬦ kimaki: "), command.name
    assert running.app.store.projects.all() == projects
    assert running.app.store.channel_settings.verbosity(ChannelID(running.channel.id)) == verbosity
