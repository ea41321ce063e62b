"""The access rule, as a table: every way in, every way out."""

from __future__ import annotations

import pytest

from kimaki.bot.access import MemberFacts, decide


def facts(
    *, owner: bool = False, admin: bool = False, manage: bool = False, roles: tuple[str, ...] = ()
) -> MemberFacts:
    return MemberFacts(owner, admin, manage, frozenset(r.casefold() for r in roles))


@pytest.mark.parametrize(
    ("member", "allow_all", "allowed"),
    [
        (facts(owner=True), False, True),
        (facts(admin=True), False, True),
        (facts(manage=True), False, True),
        (facts(roles=("Kimaki",)), False, True),
        (facts(roles=("KIMAKI",)), False, True),
        (facts(roles=("kimaki-fans",)), False, False),
        (facts(), False, False),
        (facts(), True, True),
        (facts(roles=("no-kimaki",)), True, False),
        (facts(roles=("No-Kimaki", "Kimaki")), False, False),
        (facts(owner=True, roles=("no-kimaki",)), False, False),
        (facts(admin=True, roles=("no-kimaki",)), True, False),
    ],
)
def test_access_rule(member: MemberFacts, allow_all: bool, allowed: bool) -> None:
    decision = decide(member, allow_all_users=allow_all)
    assert decision.allowed is allowed
    assert decision.reason


def test_refusals_say_why() -> None:
    assert "no-kimaki" in decide(facts(roles=("no-kimaki",)), allow_all_users=True).reason
    assert "Kimaki" in decide(facts(), allow_all_users=False).reason
