"""Suggestions (give_suggestion): thanked, restated when short, recorded as a ``suggestion`` ticket, never
apologised for or handled as a complaint."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from actions.suggestion import ActionRecordSuggestion
from credit.answers.suggestions import suggestion_reply, summarise
from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.db.base import TICKET_KINDS
from credit.db.engine import session_scope
from credit.db.tickets import Ticket
from harness.paths import ROOT as PROJECT_ROOT
from tests.unit.actions.action_kit import all_text, make_tracker, run

ROOT_DIR = PROJECT_ROOT
CAT = load_catalogue()
TEXTS = CAT.suggestion
APOLOGY = ("抱歉", "对不起", "不好意思", "给您带来")


@pytest.mark.parametrize(
    "message,summary",
    [
        ("建议App加个还款提醒", "App加个还款提醒"),
        ("给你们提个意见，字太小了", "字太小了"),
        ("提个建议哈 验证码有效期能再长一点", "验证码有效期能再长一点"),
        ("小建议：还款成功后推送个通知", "还款成功后推送个通知"),
        ("希望以后能支持信用卡还款！", "希望以后能支持信用卡还款"),
        ("要是能按周还就好了～", "要是能按周还就好了"),
        ("我的手机13812345678 建议加短信提醒", "我的手机138****5678 建议加短信提醒"),
        ("建议", ""),
        ("建议" + "很长" * 30, ""),
    ],
)
def test_summary_is_the_suggestion_itself(message, summary):
    assert summarise(message) == summary


def test_reply_thanks_and_restates_without_apology():
    text = suggestion_reply(TEXTS, "希望以后能支持信用卡还款")
    assert text.startswith("谢谢您的建议") and "「希望以后能支持信用卡还款」" in text and "记录" in text
    assert not any(word in text for word in APOLOGY)
    assert suggestion_reply(TEXTS, "建议") == TEXTS.thanks
    voice = suggestion_reply(TEXTS, "希望以后能支持信用卡还款", voice=True)
    assert voice == TEXTS.thanks_voice and len(voice) < len(text)


def test_reply_falls_back_to_plain_thanks_when_the_restatement_would_not_be_compliant():
    assert suggestion_reply(TEXTS, "建议保证百分百通过") == TEXTS.thanks


@pytest.mark.parametrize("text", [TEXTS.thanks, TEXTS.thanks_restated, TEXTS.thanks_voice])
def test_suggestion_texts_are_compliant_and_warm(text):
    assert check_text(text) == [] and "谢谢" in text
    assert not any(word in text for word in APOLOGY)


def test_suggestion_is_a_ticket_kind_with_an_sla():
    assert "suggestion" in TICKET_KINDS
    assert CAT.sla("suggestion").reply_hours > 0


def test_action_thanks_and_records_a_suggestion_ticket(svc):  # noqa: F811
    tracker = make_tracker(sender="rest:s1", text="建议App加个还款提醒，手机13812345678", intent="give_suggestion")
    messages, events = run(ActionRecordSuggestion(), tracker)
    text = all_text(messages)
    assert text.startswith("谢谢您的建议") and not any(word in text for word in APOLOGY)
    assert events == []  # no complaint form, no offer
    with session_scope(svc.engine) as session:
        rows = session.execute(select(Ticket).where(Ticket.sender_id == "rest:s1")).scalars().all()
        assert [(t.kind, t.category) for t in rows] == [("suggestion", None)]
        assert "还款提醒" in rows[0].detail and "13812345678" not in rows[0].detail  # stored masked
    assert [t.kind for t in svc.list_tickets("rest:s1")] == ["suggestion"]


def test_action_on_the_phone_gets_the_short_thanks(svc):  # noqa: F811
    messages, _ = run(ActionRecordSuggestion(), make_tracker(sender="tel:c1", text="建议加个语音播报",
                                                             intent="give_suggestion"))
    assert all_text(messages) == TEXTS.thanks_voice


def test_rule_and_domain_declare_the_intent():
    domain = yaml.safe_load((ROOT_DIR / "domain" / "core.yml").read_text(encoding="utf-8"))
    assert "give_suggestion" in domain["intents"] and "action_record_suggestion" in domain["actions"]
    rules = yaml.safe_load((ROOT_DIR / "data" / "rules" / "suggestion.yml").read_text(encoding="utf-8"))
    steps = rules["rules"][0]["steps"]
    assert steps == [{"intent": "give_suggestion"}, {"action": "action_record_suggestion"}]
