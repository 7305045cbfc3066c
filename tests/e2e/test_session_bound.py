"""Conversations across the session length bound (SESSION_MAX_TURNS, server/patches/sessions.py).

A server with ``SESSION_MAX_TURNS=2`` starts a new session before every third customer message,
so each conversation below crosses one or more boundaries in the middle of what it does: a form,
verification, the complaint counter, and a question that relies on earlier figures.  Nothing may
be lost and nothing repeated; the whole history stays in the tracker store.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bounded(start_stack):
    return start_stack({"SESSION_MAX_TURNS": "2"}, name="bounded")


def _sessions(assistant, sender: str) -> int:
    events = assistant.tracker(assistant.rest_id(sender))["events"]
    return sum(e["event"] == "session_started" for e in events)


def _sms_code(assistant, suffix: str) -> str:
    with create_engine(assistant.db_url()).connect() as conn:
        rows = conn.execute(text("SELECT phone, text FROM sms_outbox ORDER BY id DESC")).fetchall()
    return next(re.search(r"\d{6}", body).group(0) for phone, body in rows if phone.endswith(suffix))


def test_a_form_goes_on_across_the_boundary_without_a_second_notice(bounded, sender):
    first = bounded.texts(sender, "帮我查一下申请进度")
    assert first.startswith("隐私提示") and "申请编号" in first
    assert "身份证" in bounded.texts(sender, "SQ202611200001")
    reply = bounded.texts(sender, "1234")  # third message: a new session, the form still active
    assert "审批中" in reply and "隐私提示" not in reply
    assert _sessions(bounded, sender) == 2
    turns = [e["text"] for e in bounded.user_turns(bounded.rest_id(sender))]
    assert turns == ["帮我查一下申请进度", "SQ202611200001", "1234"]  # full history kept in the store


def test_verification_is_carried_over(bounded, sender):
    bounded.texts(sender, "提前还款要手续费吗")
    assert "申请编号" in bounded.texts(sender, "好的")
    bounded.texts(sender, "SQ202611180002")
    assert "验证码" in bounded.texts(sender, "5678")
    assert "剩余本金" in bounded.texts(sender, _sms_code(bounded, "5678"))
    assert _sessions(bounded, sender) >= 3
    # the next operation, in a later session, answers for the verified loan without asking again
    reply = bounded.texts(sender, "我要开结清证明")
    assert "未还本金¥20,000.00" in reply and "申请编号" not in reply


def test_the_complaint_counter_survives_the_boundary(bounded, sender):
    bounded.rest(sender, "等了三天还没批，太慢了")
    bounded.rest(sender, "算了")
    messages = bounded.rest(sender, "你们就是坑人，垃圾平台")  # a new session: still the second complaint
    assert _sessions(bounded, sender) == 2
    handoff = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    assert handoff and handoff[0]["type"] == "handoff"


def test_earlier_figures_still_count_after_the_boundary(bounded, sender):
    assert "借1万元、分12期" in bounded.texts(sender, "借1万分12期利息多少")
    bounded.texts(sender, "好的谢谢")
    reply = bounded.texts(sender, "那分24期的话利息多少")  # new session: the amount is remembered
    assert _sessions(bounded, sender) == 2
    assert "借1万元、分24期" in reply
