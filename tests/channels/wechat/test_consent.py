"""退订 / 订阅 typed in the WeChat chat, in process: the real WeChat service (signatures, 安全模式, retry
ledger) over a real seeded SQLite database, and the outreach engine afterwards with the WeChat API stand-in
(``harness.wechat_api``: NOT WeChat, a local server speaking the documented template-message wire format).
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any, Dict

import pytest
from sqlalchemy import select

from connectors.state import StateStore
from connectors.wechat import consent as texts
from connectors.wechat.consent import WeChatConsent
from connectors.wechat.service import WeChatService
from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.db.engine import session_scope
from credit.db.outreach import ContactPoint
from credit.policy import CHINA_TZ
from harness.wechat_api import WeChatApiStandIn
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine
from tests.channels.wechat import sim as w
from tests.channels.wechat.test_protocol import FakeDialogue, settings_for

CAT = load_catalogue()
TYPED = datetime(2026, 12, 1, 20, 0, tzinfo=CHINA_TZ)
OPENID = "o_demo_openid_3579"  # SQ202610300006's borrower: first instalment due 12-03



@pytest.fixture()
def dialogue() -> FakeDialogue:
    return FakeDialogue()


@pytest.fixture()
def service(db, dialogue, tmp_path: Path) -> WeChatService:
    return WeChatService(settings_for(), dialogue, store=StateStore(str(tmp_path / "state.db")),
                         consent=WeChatConsent(db, now=lambda: TYPED))


def say(service: WeChatService, openid: str, content: str, msg_id: int | None = None) -> str:
    request = w.safe_request(w.text_xml(openid, content, msg_id=msg_id))
    return w.open_reply(asyncio.run(service.handle(request.body, request.query)).body)["Content"]


def points(db) -> Dict[tuple, Any]:
    with session_scope(db) as s:
        return {(p.channel, p.address): (p.subscribed, p.changed_at) for p in s.execute(select(ContactPoint)).scalars()}


def test_td_in_the_chat_unsubscribes_this_openid_and_says_the_legal_notice_still_comes(db, service, dialogue):
    before = points(db)
    reply = say(service, OPENID, "退订")
    assert reply == texts.OPTED_OUT and "报送征信前告知" in reply and "订阅" in reply
    after = points(db)
    assert after[("wechat", OPENID)] == (False, TYPED)
    assert {k: v for k, v in after.items() if k != ("wechat", OPENID)} == {
        k: v for k, v in before.items() if k != ("wechat", OPENID)}  # the SMS and phone points are untouched
    assert say(service, OPENID, "TD") == texts.ALREADY_OUT
    assert dialogue.turns == []  # consent words are never a dialogue turn


def test_subscribing_again_in_the_chat(db, service, dialogue):
    say(service, OPENID, "ｔｄ")
    assert say(service, OPENID, "恢复订阅") == texts.OPTED_IN
    assert points(db)[("wechat", OPENID)] == (True, TYPED)
    assert say(service, OPENID, "订阅") == texts.ALREADY_IN
    assert dialogue.turns == []


def test_an_openid_we_hold_no_contact_point_for_gets_a_polite_answer_and_nothing_changes(db, service, dialogue):
    before = points(db)
    stranger = w.new_openid()
    assert say(service, stranger, "退订") == texts.NOTHING_TO_STOP
    assert say(service, stranger, "订阅") == texts.NOTHING_TO_START
    assert points(db) == before and dialogue.turns == []


def test_a_retried_td_is_answered_the_same_and_other_words_still_reach_the_dialogue(db, service, dialogue):
    msg_id = w.new_msg_id()
    assert say(service, OPENID, "退订", msg_id) == say(service, OPENID, "退订", msg_id) == texts.OPTED_OUT
    assert say(service, OPENID, "退订短信怎么操作啊") == texts.ALREADY_OUT  # the catalogue's 退订 pattern
    assert say(service, OPENID, "我想问下利息") == "收到：我想问下利息"
    assert [turn.text for turn in dialogue.turns] == ["我想问下利息"]


def test_after_td_in_the_chat_the_reminder_does_not_go_to_wechat(db, service, tmp_path: Path):
    from connectors.wechat.config import WeChatSettings
    from outreach.wechat import WechatTemplateChannel, load_templates

    say(service, OPENID, "退订")
    templates = load_templates()
    api = WeChatApiStandIn(templates={spec.template_id: tuple(spec.data) for spec in templates.values()})
    try:
        settings = WeChatSettings(token="t", app_id=api.app_id, app_secret=api.app_secret, api_base=api.start())
        channels = {"wechat": WechatTemplateChannel(settings, StateStore(str(tmp_path / "s.db")), templates),
                    "sms": SmsChannel(db)}
        morning = datetime(2026, 12, 2, 9, 0, tzinfo=CHINA_TZ)
        report = OutreachEngine(db, CAT, channels, lambda: morning, worker="w1").sweep()
        assert "due_t1:SQ202610300006:p1" in report.sent
        assert api.templates_to(OPENID) == []  # 退订 on WeChat: the rule's next channel (SMS) carries it
    finally:
        api.stop()


@pytest.mark.parametrize("reply", [texts.OPTED_OUT, texts.ALREADY_OUT, texts.OPTED_IN, texts.ALREADY_IN,
                                   texts.NOTHING_TO_STOP, texts.NOTHING_TO_START, texts.NOT_DONE])
def test_the_consent_replies_are_compliant_and_fit_a_passive_reply(reply):
    assert check_text(reply) == [] and len(reply.encode("utf-8")) <= 2048
