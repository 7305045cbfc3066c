"""The full rules by SMS, on request (issue 28): "规则我发短信给您".

``request_sms_details`` (key 2 of a spoken rules answer, or said) -> which rules: those of the latest spoken
answer that may go by SMS -> the identity check (``loan_form`` with ``loan_operation=sms_details``: application
number and ID digits; no SMS code, since the message goes only to the number on file) -> consent, naming the
number's last four digits -> sent through the SMS gateway (``credit/rules_sms.py``).  Nothing is sent to a
number the caller says, and nothing personal is in the message."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import polite_on_failure, reads_aloud, service
from actions.voice import sms_kind
from credit.errors import NotFound, NotVerified, RateLimited
from credit.rules_sms import RULE_KINDS, TOPICS

OPERATION = "sms_details"
CONSENT_BUTTONS = [{"title": "同意发送", "payload": "/affirm", "key": "1"},
                   {"title": "不用了", "payload": "/deny", "key": "2"}]
NOTHING_TO_SEND = ("可以把" + "、".join(TOPICS[k] for k in RULE_KINDS) + "的完整规则发短信给您。"
                   "请先说您想了解哪一项，我说完以后再发。")
NOT_ON_CHAT = "规则就在上面的消息里，您可以随时翻看。在电话里，我可以把完整规则发短信到您登记的手机号。"
CHECK_FIRST = "好的。为保护您的信息，短信只发到您申请时登记的手机号，需要先核实一下身份。"
NO_NUMBER = "抱歉，没有查到您已核实的注册手机号，规则短信发不了。您可以在手机应用里查看完整规则，或说转人工。"


def _kind(tracker: Tracker) -> Optional[str]:
    menu = sms_kind(tracker)
    kind = str(menu.get("kind")) if menu else None
    return kind if kind in RULE_KINDS else None


def _verified(tracker: Tracker) -> Optional[str]:
    app_id = tracker.get_slot("verified_application")
    return app_id if app_id and service().is_verified(tracker.sender_id, app_id, level="basic") else None


def ask_consent(dispatcher: CollectingDispatcher, tracker: Tracker, app_id: str) -> List[EventType]:
    """Before anything is sent: which rules, to which number (its last four digits), and a yes."""
    kind = _kind(tracker)
    if kind is None:
        dispatcher.utter_message(text=NOTHING_TO_SEND)
        return [SlotSet("offer", None)]
    try:
        phone = service().registered_mobile(tracker.sender_id, app_id)
    except (NotFound, NotVerified):
        dispatcher.utter_message(text=NO_NUMBER)
        return [SlotSet("offer", None)]
    dispatcher.utter_message(text=f"好的，我把{TOPICS[kind]}的完整规则发到您登记的尾号{phone[-4:]}的手机上，"
                                  "短信里不含您的个人信息。", buttons=CONSENT_BUTTONS)
    return [SlotSet("offer", OPERATION)]


def send_rules(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The caller said yes: the rules go to the verified registered mobile."""
    kind, app_id = _kind(tracker), tracker.get_slot("verified_application")
    if kind is None or not app_id:
        dispatcher.utter_message(text=NOTHING_TO_SEND)
        return []
    try:
        sent = service().send_rules_sms(tracker.sender_id, app_id, kind)
    except NotVerified:
        dispatcher.utter_message(text="为保护您的信息，核实已经过期了，需要的话请再说一次“发短信给我”。")
        return [SlotSet("verified_application", None)]
    except NotFound:
        dispatcher.utter_message(text=NO_NUMBER)
        return []
    except RateLimited:
        dispatcher.utter_message(text="今天已经给您发过几条规则短信了，为免打扰，今天就不再发了。"
                                      "您可以在手机应用里查看完整规则。")
        return []
    tail = sent.masked_phone[-4:]
    if sent.already:
        dispatcher.utter_message(text=f"{TOPICS[kind]}的规则今天已经发到尾号{tail}的手机上了，请查看短信。"
                                      "还有其他问题，请直接说。")
    else:
        dispatcher.utter_message(text=f"已经把{TOPICS[kind]}的完整规则发到尾号{tail}的手机上，请注意查收。"
                                      "还有其他问题，请直接说。")
    return []


class ActionSmsDetails(Action):
    """``request_sms_details``: which rules, then the identity check if needed, then consent."""

    sets_next_step = True

    def name(self) -> Text:
        return "action_sms_details"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if not reads_aloud(tracker) and _kind(tracker) is None:
            dispatcher.utter_message(text=NOT_ON_CHAT)
            return [SlotSet("next_step", "none")]
        if _kind(tracker) is None:
            dispatcher.utter_message(text=NOTHING_TO_SEND)
            return [SlotSet("offer", None), SlotSet("next_step", "none")]
        app_id = _verified(tracker)
        if app_id:
            return [*ask_consent(dispatcher, tracker, app_id), SlotSet("next_step", "none")]
        dispatcher.utter_message(text=CHECK_FIRST)
        return [SlotSet("loan_operation", OPERATION), SlotSet("application_id", None), SlotSet("id_last4", None),
                SlotSet("otp_code", None), SlotSet("verify_status", None), SlotSet("next_step", "loan_form")]


__all__ = ["ActionSmsDetails", "OPERATION", "ask_consent", "send_rules"]
