"""Complaints: calm the emotion first, then collect the facts and open a ticket."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import catalogue, follow_up, latest_entity, polite_on_failure, reading_of, remember, say, service
from actions.handoff import hand_off
from actions.outreach import reply_to_followup
from actions.thread import answer_reading
from actions.validation_base import STOPPED
from credit.answers import explain
from credit.answers import texts as answers
from credit.dialogue.everyday import collection_hours_line
from credit.dialogue.trust import complaint_paraphrase
from credit.entities import extract_all
from credit.text.numbers import extract_phone_number
from credit.tickets.categories import LABELS

MIN_DETAIL_CHARS = 8
CJK = re.compile(r"[\u4e00-\u9fff]")  # words, not a mistyped number: what the complaint is about
REGISTERED_WORDS = ("注册", "预留", "本机", "这个号", "原来的", "绑定")
NO_CALL_WORDS = ("不用", "不需要", "别打", "不要打")
# calls at the wrong time or to the wrong people: "早上七点就打" "半夜打电话" "打给我同事"
CONTACT_TIMES = re.compile(r"(?:早上|清早|一大早|晚上|半夜|夜里|凌晨|深夜|[0-9一二三四五六七八九十]+点)[^，。？?]{0,6}"
                           r"(?:打|电话|催|来电)|"
                           r"(?:打|电话|催|来电)[^，。？?]{0,6}(?:早上|清早|一大早|晚上|半夜|夜里|凌晨|深夜)|"
                           r"一天[^，。？?]{0,3}(?:打|几个|好几|七八|十几)[^，。？?]{0,4}电话")


#: questions of trust that are no complaint detail ("你们是正规公司吗" right after the form asked what happened)
TRUST_QUESTIONS = ("legitimacy", "usury", "data_safety", "third_party", "credit_repair")


def added_about(text: str) -> str:
    """"关于扣款方面的情况，": what an addition to the complaint is about, by its category (never its words)."""
    labels = [LABELS[s.value] for s in extract_all(text) if s.entity == "complaint_category" and s.value in LABELS]
    return f"关于{'、'.join(dict.fromkeys(labels))}的情况，" if labels else "这一点"


class ActionComplaintStart(Action):
    sets_next_step = True  # rules branch on next_step, so a failure must still set it

    def name(self) -> Text:
        return "action_complaint_start"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        followup = reply_to_followup(dispatcher, tracker)  # "不满意" answering a closed ticket's follow-up
        if followup is not None:
            return followup + [SlotSet("next_step", "none")]
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/") and tracker.get_slot("offer") == "progress_check":
            # the "我要登记投诉" button under the slow-complaint reply: register THAT complaint
            return register_offered_complaint(dispatcher, tracker)
        category = latest_entity(tracker, "complaint_category")
        reading = reading_of(tracker)  # "跟高利贷有什么区别" "太贵了" are questions to answer, not tickets
        if "投诉" not in text and (category in (None, "fee") or reading.kind in ("impatience", "reapply")):
            answered = answer_reading(dispatcher, tracker, reading)
            if answered is not None:
                return answered + [SlotSet("next_step", "none")]
        if category in (None, "fee") and reading.kind == "objection" and "投诉" not in text:
            # "太贵了吧，别家才3%" is an objection to answer on its point, not a complaint to ticket
            amount, term = reading.state.figures()
            say(dispatcher, explain.objection_answer(catalogue(), text, reading.state.product, amount, term),
                tracker)
            return remember(reading.state, "rates") + [SlotSet("next_step", "none")]
        if tracker.get_slot("offer") == "progress_check" and tracker.get_slot("complaint_detail") \
                and category == "slow" and not tracker.active_loop.get("name"):
            # "就是审批的事啊，都一个礼拜了" right after the slow-complaint reply: the same complaint insisted on,
            # registered with what was added (not a second complaint, no hand-off)
            return register_offered_complaint(dispatcher, tracker, text)
        count = int(tracker.get_slot("complaint_count") or 0) + 1
        events: List[EventType] = [SlotSet("complaint_count", count), SlotSet("complaint_category", category)]
        if count >= 2:
            dispatcher.utter_message(response="utter_complaint_escalate")
            return events + hand_off(dispatcher, tracker, "同一会话内第二次投诉") + [SlotSet("next_step", "none")]
        if category == "slow" and not tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_complaint_slow")
            return events + [SlotSet("offer", "progress_check"), SlotSet("next_step", "none"),
                             SlotSet("complaint_detail", text[:500])]
        dispatcher.utter_message(response="utter_complaint_empathy")
        detail = text[:500] if len(text.strip()) >= MIN_DETAIL_CHARS else None
        restated = complaint_paraphrase(category, detail)
        if restated:
            dispatcher.utter_message(text=restated)
        return events + [SlotSet("complaint_detail", detail), SlotSet("contact_phone", None),
                         SlotSet("offer", None), SlotSet("next_step", "complaint_form")]


def register_offered_complaint(dispatcher: CollectingDispatcher, tracker: Tracker, added: str = "") -> List[EventType]:
    """Open the ticket for the complaint already made (not a second complaint, no hand-off)."""
    detail = " ".join(filter(None, [tracker.get_slot("complaint_detail"), added.strip()]))[:500] or None
    dispatcher.utter_message(response="utter_complaint_register")
    restated = complaint_paraphrase(tracker.get_slot("complaint_category") or "slow", detail)
    if restated:
        dispatcher.utter_message(text=restated)
    return [SlotSet("complaint_detail", detail), SlotSet("contact_phone", None), SlotSet("offer", None),
            SlotSet("next_step", "complaint_form")]


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_complaint_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        return [] if tracker.get_slot("verify_status") == STOPPED else domain_slots

    def validate_complaint_detail(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {"complaint_detail": None}
        reading = reading_of(tracker)
        text = str(slot_value).strip()
        if reading.kind in ("closing", "stop_and_ask"):  # "算了，先这样吧": no ticket, a warm close (or the question)
            answer_reading(dispatcher, tracker, reading)
            return {"complaint_detail": None, "verify_status": STOPPED}
        if reading.kind in TRUST_QUESTIONS and "投诉" not in text:
            # "你们正规吗" where the form expected what happened: the question answered, no ticket
            answer_reading(dispatcher, tracker, reading)
            return {"complaint_detail": None, "verify_status": STOPPED}
        if len(text) < 2:
            dispatcher.utter_message(response="utter_ask_complaint_detail")
            return {"complaint_detail": None}
        if tracker.get_slot("requested_slot") == "complaint_detail":  # told now, not restated at the start
            restated = complaint_paraphrase(tracker.get_slot("complaint_category"), text)
            if restated:
                dispatcher.utter_message(text=restated)
            if CONTACT_TIMES.search(text):
                dispatcher.utter_message(text=collection_hours_line(catalogue()))
        return {"complaint_detail": text[:500]}

    def validate_contact_phone(self, slot_value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {"contact_phone": None}
        text = str(slot_value).strip()
        phone = extract_phone_number(text)
        if phone:
            return {"contact_phone": phone}
        if any(w in text for w in REGISTERED_WORDS):
            return {"contact_phone": "registered"}
        if any(w in text for w in NO_CALL_WORDS):
            return {"contact_phone": "no_call"}
        reading = reading_of(tracker)
        if reading.kind in ("closing", "stop_and_ask"):
            answer_reading(dispatcher, tracker, reading)
            return {"contact_phone": None, "verify_status": STOPPED}
        if reading.kind == "complaint_time":  # a question about the ticket, answered; the form asks on
            answer_reading(dispatcher, tracker, reading)
            return {"contact_phone": None}
        if (tracker.latest_message.get("intent") or {}).get("name") == "check_progress":
            # "顺便帮我查下进度" while the number to call back is asked: the ticket first, then the progress
            dispatcher.utter_message(text="好的，先把这条投诉登记好；登记完把申请编号发给我，我再帮您查进度。")
            return {"contact_phone": None}
        if not any(c.isdigit() for c in text) and len(CJK.findall(text)) >= 4:
            # not a number at all: what the complaint is about, said again or added to; it goes on the record
            answered = answer_reading(dispatcher, tracker, skip=("closing", "accept_offer", "rate_complaint"))
            if answered is None:
                rule = f"\n{collection_hours_line(catalogue())}" if CONTACT_TIMES.search(text) else ""
                dispatcher.utter_message(text=f"明白，{added_about(text)}我已经补充到投诉记录里了。" + rule)
            detail = " ".join(filter(None, [tracker.get_slot("complaint_detail"), text]))[:500]
            return {"contact_phone": None, "complaint_detail": detail}
        dispatcher.utter_message(response="utter_invalid_contact")
        return {"contact_phone": None}


class ActionCreateComplaintTicket(Action):
    def name(self) -> Text:
        return "action_create_complaint_ticket"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("verify_status") == STOPPED:  # closed inside the form: nothing is registered
            return [SlotSet("complaint_detail", None), SlotSet("contact_phone", None), SlotSet("verify_status", None)]
        ticket = service().create_ticket(
            tracker.sender_id, "complaint",
            detail=tracker.get_slot("complaint_detail") or "",
            contact=tracker.get_slot("contact_phone"),
            category=tracker.get_slot("complaint_category") or "other",
            application_id=tracker.get_slot("verified_application"),
        )
        say(dispatcher, answers.ticket_answer(catalogue(), ticket, contact=tracker.get_slot("contact_phone")))
        follow_up(dispatcher, tracker)
        return [SlotSet("complaint_detail", None), SlotSet("contact_phone", None)]

