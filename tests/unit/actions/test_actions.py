"""Action unit tests: rasa-sdk actions run against a real SQLite database seeded with the demo."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

import actions.common as common
from actions.complaint import ActionComplaintStart, ActionCreateComplaintTicket, ValidateComplaintForm
from actions.dialogue import ActionAcceptOffer, ActionFallback, ActionHandleInform
from actions.handoff import ActionHandoff
from actions.loan_ops import ActionAskOtpCode, ActionLoanOperation, ValidateLoanForm
from actions.progress import ActionCheckProgress, ValidateProgressForm
from actions.rates import ActionQuoteRate
from actions.risk import ActionReportFraud, ActionUrgentNeed
from credit.compliance import check_text
from credit.db.engine import get_engine, init_db, session_scope
from credit.db.sms import SmsOutbox
from credit.db.tickets import Ticket
from credit.seed import seed
from credit.service import LoanService
from tests.unit.actions.action_kit import DOMAIN, all_text, make_tracker, run, slots_of


def test_rate_quote_uses_customer_figures(svc):
    tracker = make_tracker(text="借1万分12期利息多少", intent="ask_interest_rate",
                           entities=[{"entity": "amount", "value": "10000"}, {"entity": "term", "value": "12"}])
    messages, _ = run(ActionQuoteRate(), tracker)
    text = all_text(messages)
    assert "借1万元、分12期" in text and "866.19" in text and "年化利率" in text
    assert check_text(text) == []


def test_progress_validation_verifies_and_check_reports_stage(svc):
    form = ValidateProgressForm()
    tracker = make_tracker(text="1234", slots={"application_id": "SQ202611200001", "id_last4": "1234",
                                               "requested_slot": "id_last4"}, active_loop="progress_form")
    dispatcher = CollectingDispatcher()
    result = form.validate_id_last4("1234", dispatcher, tracker, DOMAIN)
    assert result["verify_status"] == "ok"
    done = make_tracker(slots={"application_id": "SQ202611200001", "verify_status": "ok"})
    messages, events = run(ActionCheckProgress(), done)
    assert "审批中" in all_text(messages)
    assert slots_of(events)["application_id"] is None  # identity slots cleared after use


def test_wrong_and_unknown_give_identical_failure(svc):
    form = ValidateProgressForm()
    replies = []
    for i, app in enumerate(["SQ202611200001", "SQ209912319999"]):
        tracker = make_tracker(sender=f"rest:w{i}", slots={"application_id": app})
        dispatcher = CollectingDispatcher()
        result = form.validate_id_last4("9999", dispatcher, tracker, DOMAIN)
        assert result == {"id_last4": None}
        replies.append(dispatcher.messages)
    assert replies[0] == replies[1]


def test_third_failure_locks_and_form_ends(svc):
    form = ValidateProgressForm()
    tracker = make_tracker(sender="rest:lock", slots={"application_id": "SQ202611200001"})
    for _ in range(2):
        form.validate_id_last4("0000", CollectingDispatcher(), tracker, DOMAIN)
    result = form.validate_id_last4("0000", CollectingDispatcher(), tracker, DOMAIN)
    assert result["verify_status"] == "locked"
    locked = make_tracker(sender="rest:lock", slots={"verify_status": "locked"})
    slots = ["application_id", "id_last4"]
    assert asyncio.run(form.required_slots(slots, CollectingDispatcher(), locked, DOMAIN)) == []


@pytest.mark.parametrize("hostile", ["", "abcd", "12", "12345", "SQ12", "' OR 1=1 --", "😡😡😡😡", "x" * 10000,
                                     "\u0000\u202e", "<script>alert(1)</script>"])
def test_form_slots_reject_hostile_input_with_a_message(svc, hostile):
    tracker = make_tracker(slots={"application_id": "SQ202611200001"})
    form = ValidateProgressForm()
    dispatcher = CollectingDispatcher()
    assert form.validate_application_id(hostile, dispatcher, tracker, DOMAIN) == {"application_id": None}
    assert dispatcher.messages
    dispatcher = CollectingDispatcher()
    assert form.validate_id_last4(hostile, dispatcher, tracker, DOMAIN)["id_last4"] is None
    assert dispatcher.messages
    dispatcher = CollectingDispatcher()
    assert ValidateLoanForm().validate_otp_code(hostile, dispatcher, tracker, DOMAIN)["otp_code"] is None
    dispatcher = CollectingDispatcher()
    complaint_form = ValidateComplaintForm()
    assert complaint_form.validate_contact_phone(hostile, dispatcher, tracker, DOMAIN) == {"contact_phone": None}


def test_slot_reset_by_an_action_is_not_answered_as_bad_input(svc):
    """Actions clear identity slots when a form starts; that must not produce error messages."""
    tracker = make_tracker(slots={"application_id": None})
    for validate in (ValidateProgressForm().validate_application_id, ValidateProgressForm().validate_id_last4,
                     ValidateLoanForm().validate_otp_code, ValidateComplaintForm().validate_contact_phone,
                     ValidateComplaintForm().validate_complaint_detail):
        dispatcher = CollectingDispatcher()
        assert list(validate(None, dispatcher, tracker, DOMAIN).values()) == [None]
        assert dispatcher.messages == []


def test_otp_flow_sends_code_to_outbox_and_unlocks_loan_details(svc):
    sender = "rest:otp"
    assert svc.verify_identity(sender, "SQ202611180002", "5678").status == "ok"
    tracker = make_tracker(sender=sender, slots={"application_id": "SQ202611180002", "requested_slot": "id_last4"})
    messages, _ = run(ActionAskOtpCode(), tracker)
    with session_scope(svc.engine) as session:
        sms = session.query(SmsOutbox).order_by(SmsOutbox.id.desc()).first()
        code = re.search(r"\d{6}", sms.text).group(0)
    assert messages[0]["response"] == "utter_otp_sent" and messages[0]["phone_last4"] == "5678"
    assert code not in str(messages)
    result = ValidateLoanForm().validate_otp_code(code, CollectingDispatcher(), tracker, DOMAIN)
    assert result == {"otp_code": "verified"}
    done = make_tracker(sender=sender, slots={"application_id": "SQ202611180002", "verify_status": "ok",
                                              "loan_operation": "details"})
    messages, events = run(ActionLoanOperation(), done)
    text = all_text(messages)
    assert "20,000.00" in text and "年化利率(单利) 12%" in text
    assert check_text(text) == []
    assert slots_of(events)["verified_application"] == "SQ202611180002"


def test_wechat_openid_counts_as_strong_check(svc):
    sender = "wx:o_demo_openid_5678"
    assert svc.verify_identity(sender, "SQ202611180002", "5678").status == "ok"
    tracker = make_tracker(sender=sender, slots={"application_id": "SQ202611180002", "verify_status": "ok"})
    slots = asyncio.run(ValidateLoanForm().required_slots(["application_id", "id_last4", "otp_code"],
                                                          CollectingDispatcher(), tracker, DOMAIN))
    assert "otp_code" not in slots


def test_complaint_flow_creates_masked_ticket(svc):
    start = make_tracker(text="客服态度太差了，我要投诉", intent="complain",
                         entities=[{"entity": "complaint_category", "value": "attitude"}])
    messages, events = run(ActionComplaintStart(), start)
    assert messages[0]["response"] == "utter_complaint_empathy"
    assert slots_of(events)["next_step"] == "complaint_form"
    done = make_tracker(slots={"complaint_detail": "客服挂我电话，我的手机13812345678", "contact_phone": "13812345678",
                               "complaint_category": "attitude"})
    messages, _ = run(ActionCreateComplaintTicket(), done)
    text = all_text(messages)
    assert re.search(r"TK\d+", text) and "24小时" in text
    assert "13812345678" not in text
    with session_scope(svc.engine) as session:
        ticket = session.query(Ticket).one()
        assert "13812345678" not in ticket.detail and "13812345678" not in (ticket.contact or "")


def test_slow_complaint_offers_progress_check(svc):
    tracker = make_tracker(text="审批太慢了等了三天", intent="complain",
                           entities=[{"entity": "complaint_category", "value": "slow"}])
    messages, events = run(ActionComplaintStart(), tracker)
    assert slots_of(events)["offer"] == "progress_check" and slots_of(events)["next_step"] == "none"
    messages, events = run(ActionAcceptOffer(), make_tracker(intent="affirm", slots={"offer": "progress_check"}))
    assert slots_of(events)["next_step"] == "progress_form"


def test_second_complaint_hands_off(svc):
    tracker = make_tracker(text="垃圾平台", intent="complain", slots={"complaint_count": 1})
    messages, events = run(ActionComplaintStart(), tracker)
    custom = [m["custom"] for m in messages if m.get("custom")]
    assert custom and custom[0]["type"] == "handoff"


def test_handoff_summary_masks_personal_data(svc):
    events = [{"event": "user", "text": "我手机13812345678 身份证110101199003071234",
               "parse_data": {"intent": {"name": "account_service"}}}]
    messages, _ = run(ActionHandoff(), make_tracker(text="转人工", intent="request_human", events=events))
    summary = [m["custom"] for m in messages if m.get("custom")][0]["summary"]
    assert "13812345678" not in summary and "110101199003071234" not in summary
    assert "账户与银行卡" in summary


def test_fallback_offers_two_likeliest_then_hands_off(svc):
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_prepayment", "confidence": 0.3},
               {"name": "ask_repayment", "confidence": 0.2}, {"name": "greet", "confidence": 0.1}]
    messages, _ = run(ActionFallback(), make_tracker(text="那个钱咋弄", intent="nlu_fallback", ranking=ranking))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["提前还款", "还款问题", "都不是，转人工"]
    previous = [{"event": "user", "text": "嗯嗯", "parse_data": {"intent": {"name": "nlu_fallback"}}}]
    messages, _ = run(ActionFallback(), make_tracker(text="啊", intent="nlu_fallback", events=previous))
    assert any(m.get("custom", {}).get("type") == "handoff" for m in messages)


def test_risk_actions_record_events(svc):
    run(ActionUrgentNeed(), make_tracker(text="急用钱快批", intent="urgent_need"))
    messages, _ = run(ActionReportFraud(), make_tracker(text="让我交保证金", intent="report_fraud"))
    assert "400-820-8820" in all_text(messages)
    from credit.db.tickets import RiskEvent
    with session_scope(svc.engine) as session:
        assert sorted(e.kind for e in session.query(RiskEvent)) == ["fraud_report", "urgent_need"]


def test_application_number_outside_form_starts_check(svc):
    tracker = make_tracker(text="SQ202611200001", entities=[{"entity": "application_id", "value": "SQ202611200001"}])
    _, events = run(ActionHandleInform(), tracker)
    assert slots_of(events)["next_step"] == "progress_form"


def test_database_down_gets_polite_reply_not_silence(tmp_path, monkeypatch):
    engine = get_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere' / 'x.db'}")
    monkeypatch.setattr(common, "_service", LoanService(engine))
    messages, _ = run(ActionUrgentNeed(), make_tracker(text="急用钱", intent="urgent_need"))
    assert messages and messages[0].get("response") == "utter_service_unavailable"


def test_phone_callers_get_the_short_forms(svc):
    from actions.session import ActionSessionStart
    from credit.compliance import PRIVACY_NOTICE_VOICE, RATE_DISCLAIMER_VOICE

    tracker = make_tracker(sender="tel:CA123", text="利息多少", intent="ask_interest_rate")
    messages, _ = run(ActionQuoteRate(), tracker)
    assert RATE_DISCLAIMER_VOICE in all_text(messages) and "\n" not in all_text(messages)
    messages, _ = run(ActionSessionStart(), session_start_tracker(sender="ivr:call-1"))
    assert all_text(messages) == PRIVACY_NOTICE_VOICE


def session_start_tracker(sender: str = "rest:u1", reason: Optional[str] = None,
                          slots: Optional[Dict[str, Any]] = None, events: Optional[List[Dict[str, Any]]] = None,
                          active_loop: Optional[str] = None) -> Tracker:
    """The tracker action_session_start sees: the previous session's events, no new message yet."""
    slots = dict(slots or {})
    if reason:
        slots["session_started_metadata"] = {"session_reason": reason}
    return Tracker(sender, slots, {}, events or [], False, None, {"name": active_loop} if active_loop else {},
                   "action_listen")


PREVIOUS = [{"event": "user", "text": "你好"}, {"event": "bot", "text": "您好"}]


def test_session_start_at_the_length_bound_carries_everything_and_says_nothing():
    from actions.session import ActionSessionStart

    slots = {"verified_application": "SQ202612010001", "complaint_count": 1, "requested_slot": "otp_code",
             "amount": 50000, "product": None}
    messages, events = run(ActionSessionStart(), session_start_tracker(
        reason="length", slots=slots, events=PREVIOUS, active_loop="loan_operation_form"))
    assert messages == []
    assert [e["event"] for e in events][0] == "session_started"
    assert slots_of(events) == {"verified_application": "SQ202612010001", "complaint_count": 1,
                                "requested_slot": "otp_code", "amount": 50000}
    assert {"event": "active_loop", "name": "loan_operation_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events]
    assert events[-1] == {**events[-1], "event": "action", "name": "action_listen"}


def test_session_start_after_idle_keeps_the_complaint_count_not_verification_and_no_second_notice():
    from actions.session import ActionSessionStart

    slots = {"verified_application": "SQ202612010001", "complaint_count": 2}
    messages, events = run(ActionSessionStart(), session_start_tracker(
        reason="expired", slots=slots, events=PREVIOUS, active_loop="loan_operation_form"))
    assert messages == []  # the customer saw the notice in this conversation already
    assert slots_of(events) == {"complaint_count": 2}
    assert "active_loop" not in [e["event"] for e in events]


def test_first_session_shows_the_privacy_notice_once():
    from actions.session import ActionSessionStart
    from credit.compliance import PRIVACY_NOTICE_SHORT

    messages, events = run(ActionSessionStart(), session_start_tracker(reason="new"))
    assert all_text(messages) == PRIVACY_NOTICE_SHORT
    assert slots_of(events) == {}


@pytest.mark.parametrize("utc, open_", [("2026-12-01T02:00:00+00:00", True),    # 10:00 Beijing
                                        ("2026-12-01T14:30:00+00:00", False),   # 22:30 Beijing
                                        ("2026-11-30T23:30:00+00:00", False)])  # 07:30 Beijing
def test_handoff_follows_the_agents_hours(tmp_path, monkeypatch, utc, open_):
    from datetime import datetime

    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    seed(engine, reset=True)
    monkeypatch.setattr(common, "_service", LoanService(engine, clock=lambda: datetime.fromisoformat(utc)))
    messages, _ = run(ActionHandoff(), make_tracker(text="转人工", intent="request_human"))
    text = all_text(messages)
    custom = [m["custom"] for m in messages if m.get("custom")]
    assert custom[0]["agents_available"] is open_
    if open_:
        assert "正在为您转接人工客服" in text
    else:
        assert "正在为您转接" not in text and "休息时间" in text
        assert ("今天9:00" if utc.startswith("2026-11-30T23") else "明天9:00") in text
    assert check_text(text) == []


def test_outside_hours_a_verified_customer_is_offered_a_call_back_ticket_to_the_registered_phone(
        tmp_path, monkeypatch):
    from datetime import datetime

    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    seed(engine, reset=True)
    night = datetime.fromisoformat("2026-11-30T15:00:00+00:00")  # 23:00 in Beijing
    monkeypatch.setattr(common, "_service", LoanService(engine, clock=lambda: night))
    anonymous, events = run(ActionHandoff(), make_tracker(text="转人工", intent="request_human"))
    assert "回电" not in all_text(anonymous) and slots_of(events)["offer"] is None  # no number we could call
    verified = {"verified_application": "SQ202611180002"}
    offered, events = run(ActionHandoff(), make_tracker(text="转人工", intent="request_human", slots=verified))
    assert "登记回电" in all_text(offered) and slots_of(events)["offer"] == "callback"
    accepted, _ = run(ActionAcceptOffer(), make_tracker(text="好的", intent="affirm",
                                                        slots={**verified, "offer": "callback"}))
    assert "预留的手机号" in all_text(accepted) and check_text(all_text(accepted)) == []
    assert "最晚12月1日 11:00（北京时间）前" in all_text(accepted)  # agents back at 9:00, then the 2-hour SLA
    with session_scope(engine) as s:
        ticket = s.query(Ticket).filter(Ticket.kind == "callback").one()
        assert ticket.application_id == "SQ202611180002" and ticket.contact == "registered"
        assert ticket.due_at == datetime.fromisoformat("2026-12-01T03:00:00+00:00")


def test_risk_signals_get_an_honest_answer_one_question_and_a_risk_event(svc):
    from actions.topics import ActionAnswerTopic
    from credit.db.tickets import RiskEvent

    text = "我在好几个平台都借过钱，最近刚换了工作，还能批吗"
    messages, events = run(ActionAnswerTopic(), make_tracker(text=text, intent="ask_eligibility"))
    reply = all_text(messages)
    assert "不会被一口回绝" in reply and "工作时间短不等于不能申请" in reply
    assert reply.count("？") == 1  # at most one verifying question
    assert "申请条件：" not in reply  # the honest answer replaces the generic list
    assert check_text(reply) == []
    assert slots_of(events)["risk_noted"] == ["new_job", "many_lenders"]
    with session_scope(svc.engine) as session:
        rows = sorted((e.kind, e.text) for e in session.query(RiskEvent))
    assert [k for k, _ in rows] == ["many_lenders", "new_job"]
    assert rows[0][1].startswith("好几个平台都借")  # the evidence
    # said again later in the conversation: answered, not recorded twice
    tracker = make_tracker(text="刚换工作会影响额度吗", intent="ask_loan_limit",
                           slots={"risk_noted": ["new_job", "many_lenders"]})
    messages, events = run(ActionAnswerTopic(), tracker)
    assert "risk_noted" not in slots_of(events)
    with session_scope(svc.engine) as session:
        assert session.query(RiskEvent).count() == 2


@pytest.mark.parametrize("text", ["你们利率多少", "你再说一遍", "工作压力很大", "那以后再说吧"])
def test_ordinary_words_are_not_risk_signals(text):
    from credit.catalogue.loader import load_catalogue

    assert load_catalogue().risk_signals.find(text) == []


def test_one_gentle_follow_up_after_a_resolved_question_not_twice_in_a_row():
    from actions.common import follow_up

    dispatcher = CollectingDispatcher()
    follow_up(dispatcher, make_tracker())
    assert [m.get("response") for m in dispatcher.messages] == ["utter_follow_up"]
    recent = [{"event": "bot", "text": "还有其他需要我帮您看的吗？", "metadata": {"utter_action": "utter_follow_up"}}]
    dispatcher = CollectingDispatcher()
    follow_up(dispatcher, make_tracker(events=recent))
    assert dispatcher.messages == []


def test_the_same_topic_asked_twice_is_not_answered_with_the_same_block(svc):
    from actions.topics import ActionAnswerTopic
    from credit.answers.repeats import ALREADY_SAID, RECAP_LEAD

    first, _ = run(ActionAnswerTopic(), make_tracker(text="怎么还款", intent="ask_repayment"))
    earlier = [{"event": "bot", "text": m["text"]} for m in first if m.get("text")]
    second, _ = run(ActionAnswerTopic(), make_tracker(text="还款的事就这样", intent="ask_repayment", events=earlier))
    assert all_text(second) != all_text(first)
    assert all_text(second).splitlines()[0] in ALREADY_SAID
    # the same question asked again: its key points, briefly — never the whole block a second time
    again, _ = run(ActionAnswerTopic(), make_tracker(text="还款方式到底有哪些", intent="ask_repayment", events=earlier))
    lines = all_text(again).splitlines()
    assert lines[0] == RECAP_LEAD and 1 < len(lines) <= 4 + 2 and all_text(again) != all_text(first)



@pytest.mark.parametrize("text, intent", [("隐私", "out_of_scope"), ("你们会泄露我的个人信息吗", "nlu_fallback"),
                                          ("我的个人信息你们怎么保护", "account_service")])
def test_the_full_privacy_notice_on_request(svc, text, intent):
    from actions.dialogue import ActionFallback
    from actions.other_lenders import ActionOutOfScope
    from actions.topics import ActionAnswerTopic
    from credit.compliance import PRIVACY_NOTICE

    action = {"out_of_scope": ActionOutOfScope, "nlu_fallback": ActionFallback,
              "account_service": ActionAnswerTopic}[intent]()
    messages, _ = run(action, make_tracker(text=text, intent=intent))
    assert all_text(messages) == PRIVACY_NOTICE
    assert "收入" in PRIVACY_NOTICE and "其他平台" in PRIVACY_NOTICE  # what the conversation now records


def test_pressing_again_gets_a_calm_answer_one_question_and_a_risk_event(svc):
    first_event = {"event": "user", "text": "急用钱 快点批",
                   "parse_data": {"intent": {"name": "urgent_need", "confidence": 0.9}}}
    tracker = make_tracker(text="到底什么时候能批 我真的很急", intent="urgent_need", events=[first_event])
    messages, events = run(ActionUrgentNeed(), tracker)
    reply = all_text(messages)
    pressing = common.catalogue().risk_signals.pressing
    assert pressing.reply in reply and reply.count("？") == 1 and check_text(reply) == []
    assert slots_of(events)["risk_noted"] == ["repeated_pressing"]
    with session_scope(svc.engine) as s:
        kinds = [row[0] for row in s.execute(text("SELECT kind FROM risk_events WHERE sender_id = 'rest:u1'"))]
    assert kinds == ["repeated_pressing"]
    # noted once: a third plea gets the ordinary answer (without repeating its block word for word)
    again = make_tracker(text="还要多久", intent="urgent_need", events=[first_event, first_event],
                         slots={"risk_noted": ["repeated_pressing"]})
    assert pressing.reply not in all_text(run(ActionUrgentNeed(), again)[0])
