"""The conversation's thread in the Rasa glue: the state in its slot, the resolver's reading of the turn, and the
answers that the reading itself gives (credit/dialogue).  Every entry action asks :func:`answer_reading` first; it
answers and returns the events, or returns None and the action answers as before, reading the same
:class:`~credit.dialogue.resolver.Reading` (never the raw text) for its own decisions."""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, reading_of, remember, say, service, shown_example
from actions.figures import (
    _affordability,
    _calc,
    _figures,
    _longest,
    _method_question,
    _methods,
    _rate_question,
    _remaining,
    _stated,
    _switch,
    calculate,
    fitting_product,
)
from credit.answers import texts as answers
from credit.dialogue import asked, everyday, rules, stated, trust
from credit.dialogue.facts import disbursed_day
from credit.dialogue.resolver import FULL_NUMBER, PAPER_COPY, STOP_FORM, Reading, resolve
from credit.errors import RateLimited, ServiceUnavailable

#: accepts an open offer: registered by actions.dialogue, which owns the offers (it imports this module, and the
#: offers need the hand-off and the loan form, which do too: importing it here would make a cycle)
OFFER_ACCEPTORS: List[Callable[[CollectingDispatcher, Tracker, Optional[str]], List[EventType]]] = []
FORMS = ("progress_form", "loan_form")
_REPAID_WORDS = re.compile(r"(?<![没未不])(?:还上|还了|已还|还清|补上|已经还)")  # "没还了" is not repaid
_PAID = re.compile(r"转了|付了|交了|汇了|打了钱|转过去|已经转|给了")
_NOT_PAID = re.compile(r"没转|没付|没交|没汇|还没给|没给钱|没打钱")


# ------------------------------------------------------------------ handlers

Handler = Callable[[CollectingDispatcher, Tracker, Reading], Optional[List[EventType]]]


def _reply(topic: str, build: Callable[[Reading], Any], offer: Optional[str] = None) -> Handler:
    def handle(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
        reply = build(reading)
        if reply is None:
            return None
        say(dispatcher, reply, tracker)
        return remember(reading.state, topic, offer)
    return handle


def _overdue(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    days = reading.facts.days_overdue or 0
    repaid = bool(_REPAID_WORDS.search(tracker.latest_message.get("text") or ""))
    say(dispatcher, rules.overdue_days_answer(catalogue(), days, repaid), tracker)
    needs_help = not repaid and days > catalogue().overdue.grace_days
    return remember(reading.state, "overdue", "negotiation" if needs_help else None)


def _payoff(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    example = reading.state.example
    if example is None:
        return None
    say(dispatcher, rules.payoff_answer(catalogue(), example, reading.facts.payoff_month or 1), tracker)
    return remember(reading.state, "prepay_example")


def _verified_progress(tracker: Tracker, reading: Reading) -> Optional[Any]:
    """The progress of the application this conversation verified (None when none is, or still is)."""
    app_id = reading.state.verified_application
    if not app_id:
        return None
    try:
        if not service().is_verified(tracker.sender_id, app_id, level="basic"):
            return None
        return service().get_progress(tracker.sender_id, app_id)
    except ServiceUnavailable:
        return None


def _progress_next(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    """"那我下一步要干啥" after a verified progress answer: that stage's next step, not the number again."""
    view = _verified_progress(tracker, reading)
    if view is None:
        return None
    say(dispatcher, trust.progress_next_answer(view.stage_label, view.next_step, view.expected), tracker)
    return remember(reading.state, "progress")


def _service_fee(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    say(dispatcher, asked.service_fee_answer(catalogue(), tracker.get_slot("loan_operation")), tracker)
    return remember(reading.state, None)


def _impatience(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    view = _verified_progress(tracker, reading)
    if view is None:
        return None
    if view.stage in ("rejected", "declined"):
        say(dispatcher, trust.reapply_answer(catalogue()), tracker)
        return remember(reading.state, "declined")
    say(dispatcher, trust.impatience_answer(view.stage_label, view.expected, view.stage in ("submitted", "reviewing")),
        tracker)
    return remember(reading.state, "progress")


def _product_switch(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    cat, s = catalogue(), reading.state
    focused = rules.product_topic_answer(cat, s.product or "", s.topic)
    if focused is not None:  # the rules answer just given, for this product
        say(dispatcher, focused, tracker)
        return remember(s, s.topic, "prepay_calc" if s.topic == "prepayment" else None)
    amount, term = s.figures()
    say(dispatcher, answers.rate_answer(cat, s.product, amount, term), tracker)
    return remember(s, "rates", "calc_example", shown_example(s.product, amount, term))


def _accept(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    """"行，帮我算算" classified as anything but affirm: the open offer is accepted all the same; a form it needs is
    started with a FollowupAction (the affirm rules start it by ``next_step`` only after affirm)."""
    if reading.state.offer == "calc_example":
        return calculate(dispatcher, tracker, reading.state)
    if not OFFER_ACCEPTORS:
        return None
    events = OFFER_ACCEPTORS[0](dispatcher, tracker, reading.state.offer)
    forms = [e.get("value") for e in events if e.get("name") == "next_step" and e.get("value") in FORMS]
    return events + ([FollowupAction(forms[-1])] if forms else [])


def _fraud_report(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """A fraud report that landed elsewhere (a complaint, a topic): recorded and answered as one."""
    service().record_risk_event(tracker.sender_id, "fraud_report", tracker.latest_message.get("text") or "")
    say(dispatcher, answers.fraud_answer(catalogue()), tracker)
    return remember(reading.state, "fraud", "handoff")


def _wait(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    say(dispatcher, trust.wait_answer(), tracker)
    return remember(reading.state, reading.state.topic, reading.state.offer)  # the thread is unchanged


def resend_otp(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """"没收到验证码" while the loan form waits for it: sent again (the gateway's rate limit applies)."""
    try:
        sent = service().send_otp(tracker.sender_id, tracker.get_slot("application_id") or "")
    except RateLimited:
        dispatcher.utter_message(response="utter_otp_rate_limited")
        return []
    say(dispatcher, trust.otp_resent_answer(sent.masked_phone[-4:]))
    return []


def _stray_code(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """A code nobody asked for: not needed, never to be shared; the verified application's status again."""
    view = _verified_progress(tracker, reading)
    line = None
    if view is not None:
        when = view.next_step if view.expected == "已完成" else view.expected
        line = f"您的申请 {reading.state.verified_application} 目前是「{view.stage_label}」：{when.rstrip('。')}。"
    say(dispatcher, everyday.stray_code_answer(line), tracker)
    return remember(reading.state, reading.state.topic, reading.state.offer)  # the thread goes on


STOPPED_WORDS = {"complaint_form": "好的，这次投诉先不登记了。", "loan_form": "好的，这项先不办了。",
                 "progress_form": "好的，先不查了。"}


def _stop_and_ask(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """"算了先不投了 问一下罚息怎么收": the form given up (the caller stops it), then the question's answer."""
    form = (tracker.active_loop or {}).get("name") or ""
    cancelling = form == "loan_form" and tracker.get_slot("loan_operation") == "cancel"
    dispatcher.utter_message(text="好的，先不取消，您的申请还保留着。" if cancelling
                             else STOPPED_WORDS.get(form, "好的，先不办了。"))
    question = STOP_FORM.sub(" ", reading.text).strip(" ，,。")
    inner = resolve(question, (tracker.latest_message.get("intent") or {}).get("name"), reading.state)
    if inner.answered_here and inner.kind in HANDLERS and inner.kind != "stop_and_ask":
        return HANDLERS[inner.kind](dispatcher, tracker, inner) or []
    intent, cat, s = (tracker.latest_message.get("intent") or {}).get("name") or "", catalogue(), reading.state
    if intent in answers.TOPIC_INTENTS:
        say(dispatcher, answers.topic_answer(cat, intent, question), tracker)
    elif intent == "ask_prepayment":
        say(dispatcher, answers.prepayment_answer(cat, s.product, None, None), tracker)
    elif intent == "ask_interest_rate":
        say(dispatcher, answers.rate_answer(cat, s.product, s.amount, s.term), tracker)
    else:  # "先不取消了 我再想想要不要签": nothing more to answer, a warm close
        say(dispatcher, trust.closing_answer(catalogue()), tracker)
    return remember(reading.state, None)


def _full_number(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """A whole ID or card number sent: the warning, then what the rest of the message asked."""
    say(dispatcher, asked.full_number_answer(), tracker)
    rest = resolve(FULL_NUMBER.sub(" ", reading.text), None, reading.state)
    if rest.answered_here and rest.kind in HANDLERS and rest.kind != "full_number":
        return HANDLERS[rest.kind](dispatcher, tracker, rest) or []
    return remember(reading.state, "complaint", "handoff")


HANDLERS: Dict[str, Handler] = {
    "stray_code": _stray_code,
    "otp_not_sent": _reply("progress", lambda r: everyday.otp_not_sent_answer()),
    "id_format": _reply("progress", lambda r: everyday.id_format_answer()),
    "id_unavailable": _reply("progress", lambda r: everyday.id_unavailable_answer()),
    "penalty_cap": _reply("overdue", lambda r: everyday.penalty_cap_answer(catalogue()), "negotiation"),
    "collateral": _reply("eligibility", lambda r: everyday.collateral_answer(catalogue(), r.state.product)),
    "police": _reply("fraud", lambda r: everyday.police_answer(catalogue(), bool(_PAID.search(r.text)
                                                                                 and not _NOT_PAID.search(r.text)))),
    "stop_and_ask": _stop_and_ask,
    "after_cancel": _reply("account", lambda r: everyday.cancel_terms_answer(catalogue())),
    "debit_failed": _reply("repayment", lambda r: everyday.debit_failed_answer(catalogue())),
    "holiday_due": _reply("repayment", lambda r: everyday.holiday_due_answer(catalogue()), "negotiation"),
    "due_day": _reply("repayment", lambda r: everyday.due_day_answer(catalogue(), disbursed_day(r.text))),
    "service_hours": _reply("handoff", lambda r: everyday.service_hours_answer(catalogue())),
    "certificate_delivery": _reply("certificate", lambda r: everyday.certificate_delivery_answer(
        catalogue(), bool(PAPER_COPY.search(r.text)))),
    "usury": _reply("trust", lambda r: trust.usury_answer(catalogue())),
    "third_party": _reply("trust", lambda r: trust.third_party_answer(catalogue())),
    "credit_repair": _reply("trust", lambda r: trust.credit_repair_answer(catalogue())),
    "closing": _reply("closing", lambda r: trust.closing_answer(catalogue())),
    "fraud_report": _fraud_report,
    "scammed": _reply("fraud", lambda r: trust.scammed_answer(catalogue(), r.facts.amount), "handoff"),
    "legitimacy": _reply("trust", lambda r: trust.legitimacy_answer(catalogue())),
    "data_safety": _reply("trust", lambda r: trust.data_safety_answer(catalogue())),
    "why_verify": _reply("trust", lambda r: trust.why_verify_answer()),
    "not_applied": _reply("eligibility", lambda r: trust.not_applied_answer()),
    "wait": _wait,
    "service_fee": _service_fee,
    "age": _reply("eligibility", lambda r: rules.age_answer(catalogue(), r.facts.age or 0)),
    "progress_next": _progress_next,
    "figures": _figures,
    "how_to_apply": _reply("eligibility", lambda r: trust.how_to_apply_answer(catalogue())),
    "rate_question": _rate_question,
    "otp_missing": resend_otp,
    "lost_application_id": _reply("progress", lambda r: trust.lost_application_id_answer(), "progress_check"),
    "hotline": _reply("handoff", lambda r: trust.hotline_answer(catalogue())),
    "overdue_days": _overdue,
    "payoff_month": _payoff,
    "periods_fee": _reply("prepayment", lambda r: rules.periods_fee_answer(
        catalogue(), r.facts.periods_repaid or 0, r.state.product,
        rules.example_for(catalogue(), r.state) if r.state.amount and r.state.term else None,
        r.facts.prepay_amount), "prepay_calc"),
    "payout_time": _reply("eligibility", lambda r: rules.payout_time_answer(catalogue(), fitting_product(r.state))),
    "max_amount": _reply("limit", lambda r: rules.max_amount_answer(catalogue(), fitting_product(r.state))),
    "min_amount": _reply("limit", lambda r: rules.min_amount_answer(catalogue(), fitting_product(r.state))),
    "other_rate": _reply("rates", lambda r: rules.other_rate_answer(catalogue(), r.facts.other_rate, r.state.product),
                         "calc_example"),
    "methods_compared": _methods,
    "stated_example": _stated,
    "stated_methods": _stated,
    "stated_penalty": _reply("overdue", lambda r: stated.penalty_answer(catalogue(), r.facts.other_rate)
                             if r.facts.other_rate else None),
    "remaining": _remaining,
    "grace": _reply("overdue", lambda r: asked.grace_answer(catalogue()), "negotiation"),
    "shortest_term": _reply("terms", lambda r: asked.shortest_term_answer(catalogue(), fitting_product(r.state))),
    "lowest_rate": _reply("rates", lambda r: asked.lowest_rate_answer(catalogue(), r.state.product), "calc_example"),
    "products": _reply("rates", lambda r: asked.products_answer(catalogue())),
    "product_eligibility": _reply("eligibility", lambda r: rules.product_topic_answer(
        catalogue(), r.state.product or "", "eligibility")),
    "documents": _reply("eligibility", lambda r: asked.documents_answer(catalogue(), r.text)),
    "method_question": _method_question,
    "calc": _calc,
    "full_number": _full_number,
    "all_fees": _reply("rates", lambda r: asked.all_fees_answer(catalogue())),
    "x_digit": _reply("progress", lambda r: asked.x_digit_answer()),
    "complaint_time": _reply("complaint", lambda r: asked.complaint_time_answer(catalogue())),
    "channels": _reply("handoff", lambda r: asked.channels_answer(catalogue())),
    "affordability": _affordability,
    "capacity": _reply("eligibility", lambda r: rules.capacity_answer(catalogue(), r.state.income or 0,
                                                                      r.state.monthly_debt, r.state.product)),
    "longest_term": _longest,
    "impatience": _impatience,
    "reapply": _reply("declined", lambda r: trust.reapply_answer(catalogue())),
    "method_switch": _switch,
    "term_switch": _switch,
    "product_switch": _product_switch,
    "accept_offer": _accept,
    "rate_complaint": _reply("rates", lambda r: rules.rate_complaint_answer(catalogue(), r.state.product),
                             "calc_example"),
}


def answer_reading(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Optional[Reading] = None,
                   skip: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> Optional[List[EventType]]:
    """The reading's own answer and the events that remember it, or None when the intent's answer applies
    (``skip``: kinds the caller answers itself; ``only``: the kinds it wants answered, if any)."""
    reading = reading or reading_of(tracker)
    handler = HANDLERS.get(reading.kind)
    if handler is None or reading.kind in skip or only and reading.kind not in only:
        return None
    return handler(dispatcher, tracker, reading)
