"""Issue 28 in the actions, against the seeded SQLite database: the voice form for a caller (and for a WeChat
voice message), "按1" / a product chosen answered from the turn just heard, the product of a verified
caller's own application, and the rules SMS: the identity check first, consent naming the number, then sent."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.dialogue import ActionAcceptOffer, ActionHandleInform
from actions.loan_ops import ActionLoanOperation, ValidateLoanForm
from actions.prepayment import ActionPrepaymentInfo
from actions.rates import ActionQuoteRate
from actions.sms import ActionSmsDetails
from actions.topics import ActionAnswerTopic
from credit.db.engine import session_scope
from credit.db.loans import Application, Customer
from credit.db.sms import SmsOutbox
from credit.rules_sms import rules_text
from credit.voice.turns import MENU_TYPE, SPOKEN_LIMIT, TTS_HOSTILE, spoken

DOMAIN: Dict[str, Any] = {"slots": {}, "responses": {}, "forms": {
    "loan_form": {"required_slots": ["application_id", "id_last4", "otp_code"]}}}
CALLER = "tel:CA-voice-actions"


def tracker(text: str, intent: str, sender: str = CALLER, entities: Optional[List[Dict[str, Any]]] = None,
            slots: Optional[Dict[str, Any]] = None, before: Optional[List[Dict[str, Any]]] = None,
            metadata: Optional[Dict[str, Any]] = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "metadata": metadata or {}}
    events = [*(before or []), {"event": "user", "text": text, "parse_data": latest}]
    return Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen")


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    return dispatcher.messages, events


def heard_before(messages: List[Dict[str, Any]], text: str = "提前还款要手续费吗") -> List[Dict[str, Any]]:
    """The conversation so far: the caller's question and the bot turn that answered it."""
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": "ask_prepayment"}}}
    bots = [{"event": "bot", "text": m.get("text"), "data": {"buttons": m.get("buttons"), "custom": m.get("custom")}}
            for m in messages]
    return [user, *bots]


def menu(messages) -> Dict[str, Any]:
    return next(m["custom"] for m in messages if (m.get("custom") or {}).get("type") == MENU_TYPE)


def heard(messages) -> str:
    return "".join(spoken(m.get("text") or "") for m in messages)


def test_a_caller_hears_one_point_and_the_offer_of_the_next(svc) -> None:
    messages, events = run(ActionPrepaymentInfo(), tracker("随心借提前还款要手续费吗", "ask_prepayment",
                                                           entities=[{"entity": "product", "value": "随心借"}]))
    [message] = messages
    assert message["text"].startswith("随心借提前还款") and menu(messages)["rest"]
    assert message["buttons"][0]["payload"] == "/affirm" and message["buttons"][1]["payload"] == "/request_sms_details"
    assert {"event": "slot", "timestamp": None, "name": "offer", "value": "prepay_calc"} in events
    assert len(heard(messages)) <= SPOKEN_LIMIT and not TTS_HOSTILE.search(heard(messages))


def test_key_1_serves_the_next_point_of_what_was_just_heard(svc) -> None:
    first, _ = run(ActionPrepaymentInfo(), tracker("随心借提前还款要手续费吗", "ask_prepayment",
                                                   entities=[{"entity": "product", "value": "随心借"}]))
    messages, events = run(ActionAcceptOffer(), tracker("/affirm", "affirm", before=heard_before(first),
                                                         slots={"offer": "prepay_calc"}))
    assert messages[0]["text"].startswith("提前还款时，利息只计算到提前还款当日")
    assert [e["value"] for e in events if e.get("name") == "next_step"] == ["none"]
    assert not [e for e in events if e.get("name") == "offer"]  # the answer's own offer waits for its last point


def test_a_product_chosen_by_key_or_by_name_answers_for_it(svc) -> None:
    asked, _ = run(ActionPrepaymentInfo(), tracker("提前还款要手续费吗", "ask_prepayment"))
    assert menu(asked)["ask"] == "product"
    by_key, _ = run(ActionAcceptOffer(), tracker('/affirm{"product":"anjia"}', "affirm", before=heard_before(asked),
                                                 entities=[{"entity": "product", "value": "anjia"}]))
    assert by_key[0]["text"].startswith("安家分期提前还款")
    by_name, _ = run(ActionHandleInform(), tracker("小微周转贷", "inform", before=heard_before(asked),
                                                   entities=[{"entity": "product", "value": "小微周转贷"}]))
    assert by_name[0]["text"].startswith("小微周转贷提前还款")


def test_a_verified_caller_s_own_product_is_the_one_in_context(svc) -> None:
    assert svc.verify_identity(CALLER, "SQ202611210004", "8765").status == "ok"  # 安家分期
    messages, _ = run(ActionPrepaymentInfo(), tracker("提前还款要手续费吗", "ask_prepayment",
                                                      slots={"verified_application": "SQ202611210004"}))
    assert messages[0]["text"].startswith("安家分期提前还款") and "随心借" not in heard(messages)


def test_a_wechat_voice_message_gets_the_voice_form_and_a_typed_one_the_text(svc) -> None:
    voice, _ = run(ActionAnswerTopic(), tracker("逾期了会怎么样", "ask_overdue", sender="wx:o_voice",
                                                metadata={"wechat": {"kind": "voice", "msg_type": "voice"}}))
    assert menu(voice)["kind"] == "overdue" and len(heard(voice)) <= SPOKEN_LIMIT
    typed, _ = run(ActionAnswerTopic(), tracker("逾期了会怎么样", "ask_overdue", sender="wx:o_voice",
                                                metadata={"wechat": {"kind": "text", "msg_type": "text"}}))
    assert not any(m.get("custom") for m in typed) and len(typed[0]["text"]) > SPOKEN_LIMIT


def test_the_rate_answer_on_the_phone_keeps_annualised_and_the_disclaimer(svc) -> None:
    messages, _ = run(ActionQuoteRate(), tracker("你们的贷款利率是多少", "ask_interest_rate"))
    said = heard(messages)
    assert "年化利率，按单利计算" in said and "以上都是年化利率" in said and len(said) <= SPOKEN_LIMIT


def registered(svc, app_id: str) -> str:
    with session_scope(svc.engine) as s:
        return s.execute(select(Customer.phone).join(Application).where(Application.application_id == app_id)
                         ).scalar_one()


def outbox(svc) -> List[tuple]:
    with session_scope(svc.engine) as s:
        return [(r.phone, r.text) for r in s.execute(select(SmsOutbox).order_by(SmsOutbox.id)).scalars()]


def test_rules_by_sms_check_the_caller_then_ask_then_send_to_the_registered_mobile(svc) -> None:
    answer, _ = run(ActionPrepaymentInfo(), tracker("随心借提前还款要手续费吗", "ask_prepayment",
                                                    entities=[{"entity": "product", "value": "随心借"}]))
    history = heard_before(answer)
    messages, events = run(ActionSmsDetails(), tracker("/request_sms_details", "request_sms_details",
                                                       before=history))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["next_step"] == "loan_form" and slots["loan_operation"] == "sms_details"
    assert "核实" in messages[0]["text"]
    required = asyncio.run(ValidateLoanForm().required_slots(
        ["application_id", "id_last4", "otp_code"], CollectingDispatcher(),
        tracker("5678", "inform", slots={"loan_operation": "sms_details"}), DOMAIN))
    assert required == ["application_id", "id_last4"]  # no SMS code: the message goes to the number on file
    assert svc.verify_identity(CALLER, "SQ202611180002", "5678").status == "ok"
    consent, events = run(ActionLoanOperation(), tracker("5678", "inform", before=history, slots={
        "loan_operation": "sms_details", "verify_status": "ok", "application_id": "SQ202611180002"}))
    phone = registered(svc, "SQ202611180002")
    assert f"尾号{phone[-4:]}" in consent[0]["text"] and outbox(svc) == []  # nothing sent before the yes
    assert {"event": "slot", "timestamp": None, "name": "offer", "value": "sms_details"} in events
    yes = history + [{"event": "user", "text": "5678", "parse_data": {}},
                     {"event": "bot", "text": consent[0]["text"], "data": {"buttons": consent[0]["buttons"]}}]
    sent, _ = run(ActionAcceptOffer(), tracker("/affirm", "affirm", before=yes, slots={
        "offer": "sms_details", "verified_application": "SQ202611180002"}))
    assert "已经把提前还款的完整规则发到" in sent[0]["text"]
    assert outbox(svc) == [(phone, rules_text("prepayment"))]


def test_without_a_spoken_rules_answer_there_is_nothing_to_send(svc) -> None:
    messages, events = run(ActionSmsDetails(), tracker("发短信给我", "request_sms_details"))
    assert "请先说您想了解哪一项" in messages[0]["text"]
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["next_step"] == "none"
    assert outbox(svc) == []
