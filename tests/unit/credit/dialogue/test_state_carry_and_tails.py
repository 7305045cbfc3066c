"""The conversation state across the session bound, and the forgotten-number check (mobile + ID last 4)."""
from __future__ import annotations

from credit.session_carry import carry_over


def test_the_state_is_carried_after_an_idle_hour_without_the_verification():
    state = {"amount": 30000, "topic": "progress", "verified_application": "SQ202611200001"}
    carry = carry_over("expired", {"dialogue_state": state, "amount": "30000"}, None, spoken_before=True,
                       carry_all=False)
    assert carry.slots["dialogue_state"] == {"amount": 30000, "topic": "progress"}
    assert "amount" not in carry.slots  # the other slots follow the domain's rule, as before
    assert carry_over("length", {"dialogue_state": state}, None, True, False).slots["dialogue_state"] == state


def test_mobile_and_id_last4_find_the_application(svc):
    result, app_id = svc.verify_by_tails("rest:tails", "1234", "1234")
    assert result.status == "ok" and app_id == "SQ202611200001"
    assert svc.is_verified("rest:tails", app_id, level="basic")


def test_wrong_tails_count_towards_the_same_lockout(svc):
    statuses = [svc.verify_by_tails("rest:tails2", "0000", "1234")[0].status for _ in range(3)]
    assert statuses[:2] == ["failed", "failed"] and statuses[2] == "locked"
    # locked: even the right digits are refused now, and the ID check of the same sender too
    assert svc.verify_by_tails("rest:tails2", "1234", "1234")[0].status == "locked"
    assert svc.verify_identity("rest:tails2", "SQ202611200001", "1234").status == "locked"
