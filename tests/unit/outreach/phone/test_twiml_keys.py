"""The TwiML of an outbound call (Mandarin, the notice on every URL) and keypad digits on buttons."""
from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET

from connectors.render import assign_digits, render_voice, render_wechat
from connectors.twilio_zh.config import TwilioSettings
from connectors.twilio_zh.twiml import render_twiml
from connectors.voice.engine import CallState, VoiceEngine
from tests.unit.outreach.phone.phone_kit import CAT, PUBLIC, TWILIO_VERBS


# ------------------------------------------------------------------------------------ TwiML
def test_outbound_twiml_validates_is_mandarin_and_keeps_the_notice_on_every_url():
    from connectors.twilio_zh.channel import webhook_url

    settings = TwilioSettings(auth_token="t", public_base_url=PUBLIC, agent_number="+8640082088200")
    state = CallState(started=True)
    opening = [{"text": CAT.outreach.rule("overdue_d1").voice.format(company=CAT.company)},
               {"text": "请输入您身份证号码的后四位。"}]
    turn = VoiceEngine().after_turn(render_voice(opening), state, "id_last4")
    xml = render_twiml(turn, settings, lambda event: webhook_url(PUBLIC, event, 42))
    root = ET.fromstring(xml)
    assert root.tag == "Response" and {el.tag for el in root.iter()} <= TWILIO_VERBS
    gather = root.find("Gather")
    assert gather.get("language") == "zh-CN" and gather.get("input") == "dtmf speech"
    assert gather.get("numDigits") == "4" and gather.get("method") == "POST"
    for url in (gather.get("action"), root.find("Redirect").text):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["notice"] == ["42"] and url.startswith(f"{PUBLIC}/webhooks/twilio_zh/webhook?")
    says = list(root.iter("Say"))
    assert says and all(s.get("language") == "cmn-CN" and s.get("voice") == "Polly.Zhiyu" for s in says)
    spoken = "".join(s.text or "" for s in says)
    assert "核实身份" in spoken and "按键输入" in spoken and "请按一" not in spoken  # no main menu on this call
    assert webhook_url(None, "gather") == "/webhooks/twilio_zh/webhook?event=gather"


# ----------------------------------------------------------------- keypad digits on buttons
def test_a_button_may_name_its_own_digit():
    buttons = [{"title": "听还款方式", "payload": "/ask_repayment", "key": "1"},
               {"title": "转人工", "payload": "/request_human"}]
    assert [(o.digit, o.label) for o in assign_digits(buttons)] == [("1", "听还款方式"), ("0", "转人工")]
    spoken = render_voice([{"text": "请选择。", "buttons": buttons}])
    assert spoken.menu == {"1": "/ask_repayment", "0": "/request_human"}
    assert "听还款方式请按一，转人工请按零" in spoken.prompts[0]
    wechat = render_wechat([{"text": "请选择。", "buttons": buttons}])
    assert "【1】听还款方式\n【0】转人工" in wechat.texts[0] and wechat.menu["1"] == "/ask_repayment"
    # without a key the main-menu defaults stay; a key taken twice or not a digit falls to the next rule
    assert [o.digit for o in assign_digits([{"title": "还款", "payload": "/ask_repayment"}])] == ["3"]
    clash = [{"title": "甲", "payload": "/a", "key": "2"}, {"title": "乙", "payload": "/check_progress"},
             {"title": "丙", "payload": "/b", "key": "2"}, {"title": "丁", "payload": "/c", "key": "12"}]
    assert [o.digit for o in assign_digits(clash)] == ["2", "1", "3", "4"]
