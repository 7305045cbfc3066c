"""The output guard's decision (credit/guard/review.py) and its Rasa glue (server/patches/output.py) on real
Rasa events and trackers, with a real SQLite credit database (the running-stack tests are
tests/resilience/test_compliance_guard.py)."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, List

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from credit.compliance import RULE_LABELS, check_text
from credit.db.engine import get_engine, session_scope
from credit.db.interceptions import Interception
from credit.db.tickets import Handoff
from credit.guard.review import MASKED, PASS, REPLACED, SAFE_LINE, handoff_summary, review
from server import guard
from server.patches import output

PROMISE = "您的资质很好，保证通过。"
ID_TEXT = "您的身份证号是110101199003071234。"


@pytest.mark.parametrize("text, decision, rule", [
    ("好的，请问您的申请编号是多少？", PASS, ""),
    (PROMISE, REPLACED, "promise"),
    ("我们的利率全网最低。", REPLACED, "promise"),
    ("随心借提前还款无任何费用。", REPLACED, "fee_contradiction"),
    ("借款利率是7.2%起。", REPLACED, "rate_not_annualised"),
    ("借得越多越划算，赶紧借！", REPLACED, "inducement"),
    ("再不还就通知你的家人和同事。", REPLACED, "threat"),
    (ID_TEXT, MASKED, "personal_data"),
    ("卡号6222021234567890123，手机13812345678", MASKED, "personal_data"),
    ("身份证号110101199003071234，保证通过", REPLACED, "promise"),  # masking leaves the promise: replaced
])
def test_review_passes_masks_or_replaces(text: str, decision: str, rule: str) -> None:
    reviewed = review(text)
    assert (reviewed.decision, reviewed.rule) == (decision, rule)
    assert not check_text(reviewed.text or "")  # whatever leaves is compliant
    if decision == REPLACED:
        assert reviewed.text == SAFE_LINE and "110101199003071234" not in reviewed.original
    if decision == PASS:
        assert reviewed.text == text


def test_button_titles_are_reviewed_with_the_text() -> None:
    reviewed = review("请选择：", ["卡号6222021234567890123", "人工客服"])
    assert reviewed.decision == MASKED and reviewed.titles == ("卡号6222 **** **** 0123", "人工客服")
    assert review("请选择：", ["保证通过"]).decision == REPLACED
    assert review(None).decision == PASS


def test_the_handoff_summary_names_the_rule_and_holds_the_stopped_reply_masked() -> None:
    summary = handoff_summary(review("身份证110101199003071234，保证通过"), "wx", "ask_interest_rate",
                              "action_quote_rate", "utter_x", "我的手机是13812345678")
    assert RULE_LABELS["promise"] in summary and "保证通过" in summary and "action_quote_rate" in summary
    assert "110101199003071234" not in summary and "13812345678" not in summary


# ----------------------------------------------------------------- the patch on real events and trackers


@pytest.fixture
def credit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = get_engine(url)
    yield engine
    engine.dispose()


def _turn(events: List[Any]) -> DialogueStateTracker:
    tracker = DialogueStateTracker("wx:o123", slots=[])
    tracker.model_id = "model-42"
    tracker.update(UserUttered("利息多少", intent={"name": "ask_interest_rate", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_quote_rate"))
    for event in events:
        tracker.update(event)
    return tracker


def _rows(engine: Any, model: Any) -> List[Any]:
    with session_scope(engine) as s:
        return list(s.execute(select(model).order_by(model.id)).scalars())


def test_a_stopped_message_is_changed_in_place_so_the_tracker_holds_what_was_sent(credit_db: Any) -> None:
    promise = BotUttered(PROMISE, data={"buttons": [{"title": "好的", "payload": "/affirm"}]},
                         metadata={"utter_action": "utter_x"})
    fine, masked = BotUttered("请问还有什么可以帮您？"), BotUttered(ID_TEXT)
    tracker = _turn([promise, fine, masked])
    sent = asyncio.run(output.guard_events([promise, fine, masked], tracker, output._Recorder()))
    assert sent == [promise, fine, masked]
    assert promise.text == SAFE_LINE and promise.data["custom"]["type"] == "handoff"
    assert "保证通过" not in promise.data["custom"]["summary"]  # the stopped text only in the hand-off record
    assert "buttons" not in promise.data and "utter_action" not in promise.metadata
    assert masked.text == "您的身份证号是110***********1234。" and fine.text == "请问还有什么可以帮您？"
    stored = [e for e in tracker.events if isinstance(e, BotUttered)]
    assert [e.text for e in stored] == [SAFE_LINE, "请问还有什么可以帮您？", "您的身份证号是110***********1234。"]
    first, second = _rows(credit_db, Interception)
    assert (first.rule, first.decision, first.intent, first.action, first.response, first.model_id) == (
        "promise", "replaced", "ask_interest_rate", "action_quote_rate", "utter_x", "model-42")
    assert (second.decision, second.channel) == ("masked", "wx") and "110101199003071234" not in second.text
    [handoff] = _rows(credit_db, Handoff)
    assert handoff.id == first.handoff_id and handoff.queue == "compliance" and "保证通过" in handoff.summary
    assert promise.metadata["compliance_guard"] == {"decision": "replaced", "rules": ["promise"],
                                                    "interception": first.id}


def test_one_safe_line_and_one_handoff_per_turn(credit_db: Any) -> None:
    token = guard.start_turn("wx:o123")
    try:
        first, second = BotUttered(PROMISE), BotUttered("随心借提前还款无任何费用。")
        tracker = _turn([first, second])
        sent = asyncio.run(output.guard_events([first, second], tracker, output._Recorder()))
        later = BotUttered("我们的利率全网最低。")  # a later action of the same turn
        sent += asyncio.run(output.guard_events([later], _turn([later]), output._Recorder()))
    finally:
        guard.end_turn(token)
    assert sent == [first] and first.text == SAFE_LINE and second.text is None and later.text is None
    assert len(_rows(credit_db, Interception)) == 3 and len(_rows(credit_db, Handoff)) == 1


def test_the_guard_fails_closed(credit_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("checker bug")

    monkeypatch.setattr(output, "review", broken)
    event = BotUttered("一条普通的回复")
    asyncio.run(output.guard_events([event], _turn([event]), output._Recorder()))
    assert event.text == SAFE_LINE
    [row] = _rows(credit_db, Interception)
    assert row.rule == "guard_error"


def test_a_failed_audit_write_still_sends_the_guarded_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker / 'credit.db'}")
    event = BotUttered(PROMISE)
    with caplog.at_level(logging.ERROR, "server.hardening"):
        sent = asyncio.run(output.guard_events([event], _turn([event]), output._Recorder()))
    assert sent == [event] and event.text == SAFE_LINE
    assert event.metadata["compliance_guard"]["interception"] is None
    assert any("NOT recorded" in r.getMessage() for r in caplog.records)
