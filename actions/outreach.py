"""Outreach in the conversation: the notice written in through ``EXTERNAL_outreach_notice``, the outbound
call's identity check before any loan detail, and a customer's reply ("怎么还", "还不上了", "已经还了")
answered about that notice's loan, found again in the database (credit/outreach/context.py) however long
after the notice the customer answers.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import catalogue, is_voice, latest_entity, polite_on_failure, say, service
from actions.validation_base import CreditFormValidation
from credit.compliance import PRIVACY_NOTICE_VOICE
from credit.errors import InvalidInput, NotFound, ServiceUnavailable
from credit.loans import china_date
from credit.outreach import answers as outreach_answers
from credit.outreach.context import NoticeContext, NoticeContexts, call_notice_id, matches_any
from credit.tickets.records import record_satisfaction, satisfaction_from_reply

REPAYMENT_FACTS = ("installment_due", "installment_overdue", "deduction_failed")  # notices about an instalment


def contexts() -> NoticeContexts:
    return NoticeContexts(service().store, catalogue().outreach.reply_days)


def notice_context(tracker: Tracker) -> Optional[NoticeContext]:
    """The notice this conversation is replying to; on a call only once the borrower is verified."""
    try:
        ctx = contexts().for_sender(tracker.sender_id)
    except ServiceUnavailable:
        return None
    if ctx is not None and ctx.by_call and not _call_verified(tracker, ctx):
        return None
    return ctx


def _call_verified(tracker: Tracker, ctx: NoticeContext) -> bool:
    return tracker.get_slot("verify_status") == "ok" and tracker.get_slot("verified_application") == ctx.subject


def _today() -> Any:
    return china_date(service().now())


def reply_to_notice(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """A reply to a repayment notice answered about its loan, or None (then the topic's general answer)."""
    ctx = notice_context(tracker)
    rules = catalogue().outreach
    if ctx is None or ctx.application_id is None or rules.rule(ctx.kind).fact not in REPAYMENT_FACTS:
        return None
    text = tracker.latest_message.get("text") or ""
    intent = tracker.latest_message.get("intent", {}).get("name", "")
    voice = is_voice(tracker)
    if matches_any(rules.paid_replies, text):
        say(dispatcher, outreach_answers.already_paid(catalogue(), ctx, _today()), tracker)
        return [SlotSet("offer", None)]
    if matches_any(rules.hardship_replies, text):  # a plea, not a question about the overdue rules
        registered = next((t for t in service().list_tickets(tracker.sender_id)  # said again: the same ticket
                           if t.kind == "negotiation" and t.status == "open"
                           and t.application_id == ctx.application_id), None)
        if registered is not None:
            say(dispatcher, outreach_answers.hardship_already_registered(registered), tracker)
            return [SlotSet("offer", None)]
        ticket = service().create_ticket(
            tracker.sender_id, "negotiation", detail=f"客户回复主动通知（{ctx.kind}）表示暂时无力还款，申请协商",
            contact="registered", application_id=ctx.application_id)
        say(dispatcher, outreach_answers.cannot_repay(catalogue(), ctx, ticket, _today(), voice=voice), tracker)
        return [SlotSet("offer", None)]
    if intent == "ask_repayment":
        say(dispatcher, outreach_answers.how_to_repay(catalogue(), ctx, _today(), voice=voice), tracker)
        return [SlotSet("offer", None)]
    return None


def reply_to_followup(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """"满意" / "不满意" / "4分" answering the follow-up of a closed ticket: recorded on that ticket and thanked;
    not a new complaint (the complaint counter is untouched).  None when it is not such an answer."""
    ctx = notice_context(tracker)
    if ctx is None or ctx.kind != "ticket_followup":
        return None
    answer = satisfaction_from_reply(tracker.latest_message.get("text") or "")
    if answer is None:
        return None
    score, comment = answer
    try:
        record_satisfaction(service().engine, ctx.subject, score, comment, service().now())
    except (InvalidInput, NotFound):
        return None  # the ticket is not (or no longer) closed: the message is an ordinary one
    unhappy = (score is not None and score <= 2) or (score is None and comment.startswith(("不", "没", "还没")))
    say(dispatcher, outreach_answers.satisfaction_thanks(ctx.subject, unhappy), tracker)
    return [SlotSet("offer", None)]


class ActionOutreachNotice(Action):
    """``EXTERNAL_outreach_notice``: the notice as the customer got it, written into the conversation
    (the channel already delivered it: the engine triggers this without an output channel).  On an
    answered outbound call it is the opening, which says nothing of the loan, and the identity check."""

    sets_next_step = True

    def name(self) -> Text:
        return "action_outreach_notice"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        raw = latest_entity(tracker, "notice_id")
        ctx = contexts().for_notice(tracker.sender_id, raw)
        if ctx is None:  # not this conversation's notice, or no longer live: nothing to say
            return [SlotSet("next_step", "none")]
        voice = is_voice(tracker)
        text = outreach_answers.notice_text(catalogue(), ctx, voice=voice)
        if not ctx.by_call:
            dispatcher.utter_message(text=text)
            return [SlotSet("next_step", "none")]
        dispatcher.utter_message(text=f"{text}{PRIVACY_NOTICE_VOICE}")
        return [SlotSet("outreach_notice", str(ctx.notice_id)), SlotSet("application_id", ctx.subject),
                SlotSet("id_last4", None), SlotSet("verify_status", None), SlotSet("verified_application", None),
                SlotSet("next_step", "outreach_call_form")]


class ValidateOutreachCallForm(CreditFormValidation):
    """The ID digits of the borrower of the called-about loan (the application number is the notice's)."""

    def name(self) -> Text:
        return "validate_outreach_call_form"

    def validate_application_id(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        # set by action_outreach_notice from the notice; whatever the caller says cannot change it
        notice_id = call_notice_id(tracker.sender_id)
        ctx = contexts().for_sender(tracker.sender_id) if notice_id is not None else None
        return {"application_id": ctx.subject if ctx is not None else None}


class ActionOutreachDetail(Action):
    """After the identity check of a call: the notice's facts and the keypad menu, or a polite goodbye."""

    def name(self) -> Text:
        return "action_outreach_detail"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        ctx = contexts().for_sender(tracker.sender_id)
        if ctx is None or not _call_verified(tracker, ctx):
            say(dispatcher, outreach_answers.call_not_verified(catalogue()), tracker)
            return []
        say(dispatcher, outreach_answers.call_detail(catalogue(), ctx, _today()), tracker)
        return []
