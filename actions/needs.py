"""Need discovery (need_form): purpose -> amount and term -> income and monthly repayments, each
skippable, then the fitting product(s) with their materials and a worked example
(credit/catalogue/needs.py, credit/needs/answers.py).  Questions and wording come from the catalogue."""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    as_int,
    catalogue,
    is_voice,
    latest_entity,
    polite_on_failure,
    reading_of,
    reads_aloud,
    remember,
    say,
    shown_example,
    speak,
    state_of,
)
from actions.thread import answer_reading
from credit.catalogue.needs import SKIPPED, asks_conditions, wants_to_borrow
from credit.compliance import PRIVACY_NOTICE
from credit.dialogue.trust import closing_answer
from credit.needs.answers import fitting_product_line, recommendation
from credit.needs.figures import parse_income, parse_monthly_debt
from credit.needs.matching import Need, match_products, serves
from credit.replies import wan
from credit.text.numbers import parse_amount, parse_term
from credit.voice import money as voice_money

NEED_SLOTS = ("purpose", "amount", "term", "income", "monthly_debt")
NO_DEBT = re.compile(r"^(?:没有|没|无|零|0|不欠|没欠|都没有|没有了|没有贷款|没有负债|没有别的|一分都没有)"
                     r"[了的啊呀哦。！!.\s]*$")  # the whole answer: "没想好""无所谓" are not "no debts"


def starts_need_discovery(tracker: Tracker) -> bool:
    """Outside any form, a customer who says what they want to borrow (or for what) is asked about
    their need before any product is named."""
    if tracker.active_loop.get("name"):
        return False
    text = tracker.latest_message.get("text") or ""
    if asks_conditions(text):
        return False
    return wants_to_borrow(text) or latest_entity(tracker, "purpose") is not None


def start_need_discovery(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    needs = catalogue().needs
    dispatcher.utter_message(text=needs.voice_intro if is_voice(tracker) else needs.intro)
    return [SlotSet("next_step", "need_form")]


def privacy_before_personal_data(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The full privacy notice, once, before income, debts or other lenders are first asked for."""
    if tracker.get_slot("privacy_full_shown"):
        return []
    dispatcher.utter_message(text=PRIVACY_NOTICE)
    return [SlotSet("privacy_full_shown", True)]


def need_of(tracker: Tracker) -> Need:
    def number(slot: str) -> Optional[int]:
        return as_int(tracker.get_slot(slot))

    purpose = tracker.get_slot("purpose")
    return Need(purpose=None if purpose in (None, SKIPPED) else purpose, amount=number("amount"),
                term=number("term"), income=number("income"), monthly_debt=number("monthly_debt"))


#: readings answered inside the need form before its next question ("answer first, then ask")
ANSWERED_IN_FORM = ("grace", "shortest_term", "longest_term", "max_amount", "products", "documents", "payout_time",
                    "how_to_apply", "rate_question", "hotline", "affordability", "capacity", "method_question",
                    "usury", "third_party", "credit_repair", "legitimacy", "data_safety", "stated_example",
                    "stated_methods", "stated_penalty", "min_amount", "age", "periods_fee", "overdue_days",
                    "other_rate", "methods_compared", "all_fees")


def _said_this_turn(tracker: Tracker) -> bool:
    """Whether the bot has already answered the latest customer message (the form was started by it)."""
    for event in reversed(list(tracker.events)):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


def answer_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """A question asked inside the need form is answered before the form's next question; an amount above what
    the fitting products lend is said at once."""
    if _said_this_turn(tracker):
        return []
    reading = reading_of(tracker)
    if reading.kind in ANSWERED_IN_FORM:
        answered = answer_reading(dispatcher, tracker, reading)
        if answered is not None:
            return answered
    cat, need = catalogue(), need_of(tracker)
    fitting = [p for p in cat.products if need.purpose and serves(p, need.purpose)] or list(cat.products)
    top = max(fitting, key=lambda p: p.amount_max)
    said_now = need.amount is not None and as_int(latest_entity(tracker, "amount")) == need.amount
    if said_now and need.amount > top.amount_max:
        dispatcher.utter_message(text=f"先说明一下：{top.name}最高可借{wan(int(top.amount_max))}"
                                      f"（可借{top.format_amount_range()}），{wan(need.amount)}超过了上限，"
                                      "可以按上限以内的金额申请，实际额度以审批结果为准。")
    elif said_now and tracker.get_slot("requested_slot") != "amount":
        dispatcher.utter_message(text=f"好的，借{wan(need.amount)}。")  # heard, outside the amount question
    return []


class _AskNeed(Action):
    slot = ""
    field = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        events = answer_first(dispatcher, tracker)
        events += privacy_before_personal_data(dispatcher, tracker) if self.slot == "income" else []
        dispatcher.utter_message(text=getattr(catalogue().needs, self.field))
        return events


class ActionAskPurpose(_AskNeed):
    slot, field = "purpose", "ask_purpose"


class ActionAskAmount(_AskNeed):
    """When one product alone serves the purpose (装修 -> 安家分期), it is named at once, before the amount."""

    slot, field = "amount", "ask_amount"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        events = answer_first(dispatcher, tracker)
        cat, purpose = catalogue(), need_of(tracker).purpose
        fitting = [p for p in cat.products if purpose and serves(p, purpose)]
        line = fitting_product_line(cat, fitting[0]) if len(fitting) == 1 and not is_voice(tracker) else None
        if line and not any(e.get("text") == line for e in tracker.events if e.get("event") == "bot"):
            dispatcher.utter_message(text=line)  # once: not again when the question is asked again
        dispatcher.utter_message(text=cat.needs.ask_amount)
        return events


class ActionAskTerm(_AskNeed):
    slot, field = "term", "ask_term"


class ActionAskIncome(_AskNeed):
    slot, field = "income", "ask_income"


class ActionAskMonthlyDebt(_AskNeed):
    slot, field = "monthly_debt", "ask_debt"


class ValidateNeedForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_need_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("income") == SKIPPED:  # no income given: the debts alone say nothing
            return [s for s in domain_slots if s != "monthly_debt"]
        return domain_slots

    @staticmethod
    def _answer(tracker: Tracker) -> str:
        return tracker.latest_message.get("text") or ""

    def _skip_or_stop(self, tracker: Tracker, slot: str) -> Optional[Dict[Text, Any]]:
        needs, text = catalogue().needs, self._answer(tracker)
        if needs.is_stop(text) or reading_of(tracker).kind == "closing":  # the flow ends: the rest is skipped
            return {name: tracker.get_slot(name) or SKIPPED for name in NEED_SLOTS}
        if needs.is_skip(text) or (tracker.latest_message.get("intent") or {}).get("name") == "deny":
            return {slot: SKIPPED}
        return None

    def validate_purpose(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> Dict[Text, Any]:
        if value is None:
            return {"purpose": None}
        needs = catalogue().needs
        if needs.purpose(str(value)) is not None:  # from the entity: already a code
            return {"purpose": value}
        found = needs.purpose_in(str(value))
        if found:
            return {"purpose": found}
        # not a purpose we know ("买个摩托车"), or skipped: every product is considered
        return self._skip_or_stop(tracker, "purpose") or {"purpose": SKIPPED}

    def _figure(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                parse: Callable[[str], Optional[int]]) -> Dict[Text, Any]:
        """A figure slot's answer: kept when reset or skipped, a skip or stop honoured, else parsed (a bare
        number as given by the entity), or asked again when no figure is found."""
        if value is None or value == SKIPPED:
            return {slot: value}
        skipped = self._skip_or_stop(tracker, slot)
        if skipped:
            return skipped
        figure = as_int(value) if str(value).isdigit() else parse(str(value))
        if not figure:
            dispatcher.utter_message(text=catalogue().needs.unclear)
            return {slot: None}
        return {slot: str(figure)}

    def validate_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        if value not in (None, SKIPPED) and tracker.get_slot("requested_slot") in ("income", "monthly_debt"):
            # "八千" answering the income question is also an amount entity: keep the loan amount
            return {"amount": _before_this_turn(tracker, "amount")}
        result = self._figure("amount", value, dispatcher, tracker, parse_amount)
        term = parse_term(self._answer(tracker)) if result.get("amount") not in (None, SKIPPED) else None
        return {**result, "term": str(term)} if term else result

    def validate_term(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> Dict[Text, Any]:
        return self._figure("term", value, dispatcher, tracker, parse_term)

    def validate_income(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        result = self._figure("income", value, dispatcher, tracker, lambda text: parse_income(text, loose=True))
        debt = parse_monthly_debt(self._answer(tracker)) if result.get("income") not in (None, SKIPPED) else None
        return {**result, "monthly_debt": str(debt)} if debt is not None else result

    def validate_monthly_debt(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        if value is None or value == SKIPPED:
            return {"monthly_debt": value}
        text = self._answer(tracker)
        if catalogue().needs.is_stop(text):
            return self._skip_or_stop(tracker, "monthly_debt") or {}
        debt = as_int(value) if str(value).isdigit() else parse_monthly_debt(str(value), loose=True)
        if debt is not None:
            return {"monthly_debt": str(debt)}
        if catalogue().needs.is_skip(text):  # "不想说""不清楚": unknown, not zero
            return {"monthly_debt": SKIPPED}
        if NO_DEBT.match(text.strip()):
            return {"monthly_debt": "0"}
        dispatcher.utter_message(text=catalogue().needs.unclear)
        return {"monthly_debt": None}


def _before_this_turn(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest customer message."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


class ActionRecommendProducts(Action):
    def name(self) -> Text:
        return "action_recommend_products"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        closing = reading_of(tracker).kind == "closing"
        if closing or catalogue().needs.is_stop(tracker.latest_message.get("text") or ""):
            if closing:  # "我再想想": a warm close that says how to come back
                say(dispatcher, closing_answer(catalogue()), tracker)
            else:
                dispatcher.utter_message(response="utter_anything_else")
            # nothing of a need they took back is kept: a later one is asked afresh
            return [SlotSet("requested_slot", None), *[SlotSet(slot, None) for slot in NEED_SLOTS]]
        need = need_of(tracker)
        if reads_aloud(tracker):  # heard: the product and its rate first, the example and materials offered
            speak(dispatcher, voice_money.recommendation(catalogue(), need), tracker)
        else:
            say(dispatcher, recommendation(catalogue(), need, voice=is_voice(tracker)), tracker)
        matches = match_products(catalogue(), need)
        product = matches[0].product.code if matches else None
        state = state_of(tracker).updated(product=product, amount=need.amount, term=need.term, purpose=need.purpose,
                                          income=need.income)
        return [SlotSet("requested_slot", None),
                *remember(state, "needs", "calc_example", shown_example(product, need.amount, need.term))]
