"""The answered outbound call, in process: the real ``twilio_zh`` and ``ivr`` webhooks (Sanic app over ASGI,
no sockets) with the signature check; hostile ``notice`` values get a goodbye and no dialogue; a real
notice opens with the external intent.  The dialogue model is not needed: Rasa's agent is stood in for by
:class:`phone_kit.RasaStandIn`, which answers as the ``EXTERNAL_outreach_notice`` contract says (the
end-to-end test with the trained model is ``tests/e2e/test_outreach_call.py``).
"""
from __future__ import annotations

import asyncio
import json
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import timedelta

import jsonschema
import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from credit.db.engine import session_scope
from credit.db.outreach import OutreachNotice
from outreach.phone import IvrCallChannel
from tests.unit.outreach.phone.phone_kit import (
    CALLER,
    CAT,
    KEY,
    PUBLIC,
    SPEC,
    TWILIO_VERBS,
    RasaStandIn,
    make,
    notice,
    twilio_channel,
)


# ------------------------------------------------------------------ the answered call, in process
def _spoken(twiml: str) -> str:
    return "".join(s.text or "" for s in ET.fromstring(twiml).iter("Say"))


def test_the_answered_call_opens_with_the_notice_and_reads_no_loan_detail_before_verification(
        db, clock, twilio, webhooks):
    stand_in, base = twilio
    agent, hooks = webhooks
    stand_in.transport = hooks.post
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    placed = notice(db)
    [call] = stand_in.calls
    first = stand_in.answer(call.resource["sid"])
    sender = f"tel:notice-{placed.id}"
    assert agent.triggered == [(sender, "EXTERNAL_outreach_notice", [{"entity": "notice_id",
                                                                      "value": str(placed.id)}])]
    root = ET.fromstring(first)
    assert {el.tag for el in root.iter()} <= TWILIO_VERBS and root.find("Gather").get("numDigits") == "4"
    spoken = _spoken(first)
    fields = json.loads(placed.fields)
    assert "核实身份" in spoken and "请按一" not in spoken
    assert fields["loan_tail"] not in spoken and "零零零七" not in spoken and "逾期" not in spoken
    assert f"notice={placed.id}" in call.next_url
    after = stand_in.press(call.resource["sid"], "9753")
    assert agent.user == [(sender, "9753")]  # the keyed digits are the form's answer, in the notice's conversation
    assert "逾期" in _spoken(after) and "听还款方式请按一，转人工请按零" in _spoken(after)
    stand_in.press(call.resource["sid"], "1")
    assert agent.user[-1] == (sender, "/ask_repayment")
    assert stand_in.hang_up(call.resource["sid"])[0] == 200


def test_silence_on_a_call_we_placed_ends_it_politely_and_never_rings_the_agents(db, clock, twilio, webhooks):
    stand_in, base = twilio
    _, hooks = webhooks
    stand_in.transport = hooks.post
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    [call] = stand_in.calls
    stand_in.answer(call.resource["sid"])
    replies = [stand_in.silence(call.resource["sid"]) for _ in range(3)]  # two reprompts, then the end
    assert "没有听到您的声音" in _spoken(replies[0]) and ET.fromstring(replies[0]).find("Gather") is not None
    last = ET.fromstring(replies[-1])
    assert last.find("Hangup") is not None and last.find("Dial") is None
    assert "先不打扰了" in _spoken(replies[-1]) and "转接" not in _spoken(replies[-1])


@pytest.mark.parametrize("which", ["abc", "12345678901234567890", "-1", "sms_notice", "unknown", "stale", "",
                                   "twice"])
def test_hostile_notice_values_get_a_goodbye_and_no_dialogue(db, clock, twilio, webhooks, which):
    stand_in, base = twilio
    agent, hooks = webhooks
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()  # the overdue call and SMS notices exist
    with session_scope(db) as s:
        sms = s.execute(select(OutreachNotice.id).where(OutreachNotice.channel == "sms")).scalars().first()
        if which == "stale":  # placed three hours ago
            s.execute(update(OutreachNotice).where(OutreachNotice.key == KEY)
                      .values(claimed_at=clock.now - timedelta(hours=3), sent_at=clock.now - timedelta(hours=3)))
    value = {"sms_notice": str(sms), "unknown": "999999", "stale": str(notice(db).id)}.get(which, which)
    assert which != "sms_notice" or sms is not None
    params = {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": "+8613800009753", "CallStatus": "in-progress",
              "Direction": "outbound-api"}
    query = f"notice={urllib.parse.quote(value)}" if which != "twice" else f"notice={notice(db).id}&notice=1"
    status, twiml = hooks.twilio(query, params)
    root = ET.fromstring(twiml)
    assert status == 200 and root.find("Hangup") is not None and root.find("Gather") is None
    assert "无需您处理" in _spoken(twiml)
    ivr_status, body = hooks.ivr(query, {"call_id": "c-1", "event": "call_start"})
    assert ivr_status == 200 and body["action"]["type"] == "hangup" and "input" not in body
    jsonschema.Draft4Validator(SPEC.response_schema("/webhooks/ivr/webhook", "POST", 200)).validate(body)
    assert agent.triggered == [] and agent.user == []


def test_the_signature_is_still_required_for_an_outbound_call(db, clock, twilio, webhooks):
    stand_in, base = twilio
    agent, hooks = webhooks
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    query = f"notice={notice(db).id}"
    params = {"CallSid": "CA" + "2" * 32, "From": CALLER, "To": "+8613800009753"}
    assert hooks.twilio(query, params, signed=False)[0] == 403
    assert hooks.twilio(query, params, token="wrong")[0] == 403
    signed_without = RequestValidator("test-twilio-token").compute_signature(
        f"{PUBLIC}/webhooks/twilio_zh/webhook", params)  # signed for the URL without the notice
    status, _ = hooks.post(f"{PUBLIC}/webhooks/twilio_zh/webhook?{query}", urllib.parse.urlencode(params).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signed_without})
    assert status == 403 and agent.triggered == [] and agent.user == []


def test_the_ivr_callback_of_an_outbound_call_opens_the_notice_conversation(db, clock, ivr, webhooks):
    platform, settings = ivr
    agent, hooks = webhooks
    make(db, clock, IvrCallChannel(settings, CAT, clock=clock)).sweep()
    placed = notice(db)
    callback = platform.placed[KEY]["callback_url"]
    query = urllib.parse.urlsplit(callback).query
    call_id = platform.placed[KEY]["call_id"]
    status, first = hooks.ivr(query, {"call_id": call_id, "event": "call_start", "caller": "02161234567",
                                      "called": "+8613800009753"})
    assert status == 200 and first["call_id"] == call_id
    jsonschema.Draft4Validator(SPEC.response_schema("/webhooks/ivr/webhook", "POST", 200)).validate(first)
    assert first["input"]["purpose"] == "digits:id_last4" and first["input"]["dtmf"]["max_digits"] == 4
    assert agent.triggered[0][0] == f"ivr:notice-{placed.id}"
    _, after = hooks.ivr(query, {"call_id": call_id, "event": "dtmf", "digits": "9753"})
    assert agent.user == [(f"ivr:notice-{placed.id}", "9753")] and after["input"]["purpose"] == "menu"


def test_trigger_external_refuses_an_intent_the_model_does_not_know(db):
    from connectors.external import AgentNotReady, UnknownIntent, trigger_external
    from connectors.outputs import RecordingOutput

    agent = RasaStandIn(db)
    with pytest.raises(UnknownIntent):
        asyncio.run(trigger_external(agent, "tel:notice-1", "EXTERNAL_nope", {}, RecordingOutput("twilio_zh")))
    with pytest.raises(AgentNotReady):
        asyncio.run(trigger_external(None, "tel:notice-1", "EXTERNAL_outreach_notice", {},
                                     RecordingOutput("twilio_zh")))
    assert agent.triggered == []
