"""Acceptance of issue 28, "On the phone, every answer is written for the ear", on a running assistant with
the trained dialogue.

Calls are placed through ``twilio_zh`` as Twilio places them — form posts signed with the twilio library's
``RequestValidator`` (``harness.calls.TwilioCaller``), TwiML read back — NOT Twilio itself, which cannot exist
here.  Each turn's spoken text is every ``<Say>`` of the answer together (key menu included): at most 150
characters, free of brackets, 「」, ÷ × %, slashes and APP menu paths, figures in words, and still an answer to
the question.  Then a prepayment question, "按1" for the detail and the full rules by SMS to the verified
registered mobile (the development gateway writes ``sms_outbox``); the same forms on the JSON IVR channel and
for a WeChat voice message (signed as WeChat signs, ``tests/channels/wechat/sim.py``).
"""
from __future__ import annotations

import re
import uuid
from typing import List, Sequence, Tuple

import pytest
from sqlalchemy import select

from credit.db.engine import get_engine, session_scope
from credit.db.loans import Application, Customer
from credit.db.sms import RulesSms, SmsOutbox
from credit.rules_sms import rules_text
from credit.voice.turns import SPOKEN_LIMIT, TTS_HOSTILE
from harness import calls
from tests.channels.http_util import post, user_texts
from tests.channels.wechat import sim as w

pytestmark = pytest.mark.slow

ASCII_DIGIT = re.compile(r"[0-9]")
Step = Tuple[str, ...]

# (question, extra steps after it, words the answer turn must say)
EVERYDAY: List[Tuple[str, str, Sequence[Step], Sequence[str]]] = [
    ("prepayment", "随心借提前还款要手续费吗", (), ("随心借提前还款", "手续费", "想听提前还款怎么算利息")),
    ("repayment_date", "我每个月几号还款", (), ("还款日",)),
    ("upfront_fee", "放款前让我先交保证金是真的吗", (), ("诈骗",)),
    ("overdue", "逾期了会怎么样", (), ("宽限期", "罚息")),
    ("conditions", "申请需要什么条件和材料", (), ("需要准备",)),
    ("methods", "等额本息和等额本金哪个利息少", (), ("总利息", "年化")),
    ("fees", "你们有哪些手续费", (), ("放款前不收任何费用", "还有两项费用")),
    ("rates", "你们的贷款利率是多少", (), ("年化利率，按单利计算", "以上都是年化利率")),
    ("progress", "查一下我的申请进度", (("dtmf", "202611200001"), ("dtmf", "1234")), ("审批中",)),
    ("human", "转人工客服", (), ("人工客服",)),
    ("settlement", "我要开结清证明", (), ("结清证明", "申请编号")),
    ("credit_report", "逾期多久会上征信", (), ("征信", "三十天")),
]


def twilio_call(stack, steps: Sequence[Step]) -> Tuple[str, List[calls.Exchange]]:
    call_sid = "CA" + uuid.uuid4().hex
    exchanges = calls.play_call(stack.rasa_url, [("call_start",), *steps], channel="twilio",
                                secret=stack.env["TWILIO_AUTH_TOKEN"], call_id=call_sid)
    return call_sid, exchanges


def spoken(exchange: calls.Exchange) -> str:
    return "".join(exchange.prompts)


def fit_for_the_ear(exchange: calls.Exchange) -> str:
    heard = spoken(exchange)
    assert heard, exchange.raw[:300]
    assert len(heard) <= SPOKEN_LIMIT, (len(heard), heard)
    assert not TTS_HOSTILE.search(heard), heard
    assert not ASCII_DIGIT.search(heard), heard
    return heard


@pytest.mark.parametrize(("kind", "question", "steps", "words"), EVERYDAY, ids=[e[0] for e in EVERYDAY])
def test_a_dozen_everyday_questions_are_answered_for_the_ear(stack, kind, question, steps, words) -> None:
    _, exchanges = twilio_call(stack, [("speech", question, "0.95"), *steps])
    for exchange in exchanges:
        fit_for_the_ear(exchange)
    answer = spoken(exchanges[-1])
    for word in words:
        assert word in answer, (kind, answer)
    if kind == "human":
        assert exchanges[-1].action == "transfer"


def registered_phone(stack, app_id: str) -> str:
    engine = get_engine(stack.env["DATABASE_URL"])
    with session_scope(engine) as s:
        return s.execute(select(Customer.phone).join(Application).where(Application.application_id == app_id)
                         ).scalar_one()


def outbox_to(stack, phone: str) -> List[str]:
    engine = get_engine(stack.env["DATABASE_URL"])
    with session_scope(engine) as s:
        return list(s.execute(select(SmsOutbox.text).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id))
                    .scalars())


def test_prepayment_then_key_1_for_the_detail_then_the_full_rules_by_sms(stack) -> None:
    phone = registered_phone(stack, "SQ202611180002")
    before = outbox_to(stack, phone)
    call_sid, exchanges = twilio_call(stack, [
        ("speech", "提前还款要手续费吗", "0.95"),  # no product named: which one, by key
        ("dtmf", "1"),  # 随心借
        ("dtmf", "1"),  # the next point: how interest is counted
        ("dtmf", "2"),  # 规则发短信给您
        ("dtmf", "202611180002"), ("dtmf", "5678"),  # the identity check
        ("dtmf", "1"),  # consent
    ])
    turns = [fit_for_the_ear(e) for e in exchanges[1:]]
    which, fee, detail, check, _, consent, sent = turns
    assert "请问您问的是哪款" in which and "随心借请按一" in which
    assert fee.startswith("随心借提前还款") and "想听提前还款怎么算利息，请按一或直接说" in fee and "短信" in fee
    assert detail.startswith("提前还款时，利息只计算到提前还款当日") and "规则发短信给您请按二" in detail
    assert "核实" in check and "申请编号" in check
    assert "尾号五六七八" in consent and "同意发送请按一" in consent
    assert "已经把提前还款的完整规则发到尾号五六七八的手机上" in sent
    assert outbox_to(stack, phone) == [*before, rules_text("prepayment")]  # the verified registered mobile
    texts = user_texts(stack, f"tel:{call_sid}")
    assert texts[1:5] == ["提前还款要手续费吗", '/affirm{"product":"suixinjie"}', "/affirm", "/request_sms_details"]
    engine = get_engine(stack.env["DATABASE_URL"])
    with session_scope(engine) as s:
        row = s.execute(select(RulesSms).where(RulesSms.sender_id == f"tel:{call_sid}")).scalar_one()
        assert (row.application_id, row.kind) == ("SQ202611180002", "prepayment") and "****" in row.phone_masked


def test_saying_it_works_like_the_key(stack) -> None:
    """"怎么算利息" answers the offer of that point; "发短信给我" asks for the SMS; "安家分期" chooses it."""
    _, exchanges = twilio_call(stack, [("speech", "提前还款要手续费吗", "0.95"), ("speech", "安家分期", "0.9"),
                                       ("speech", "怎么算利息", "0.9")])
    product, detail = spoken(exchanges[2]), spoken(exchanges[3])
    assert product.startswith("安家分期提前还款") and "任何时候" in product
    assert detail.startswith("提前还款时，利息只计算到提前还款当日")
    _, exchanges = twilio_call(stack, [("speech", "随心借提前还款要手续费吗", "0.95"),
                                       ("speech", "发短信给我吧", "0.9")])
    assert "核实" in spoken(exchanges[-1]) and "申请编号" in spoken(exchanges[-1])


def test_the_json_ivr_channel_says_the_same_forms(stack) -> None:
    ivr = calls.play_call(stack.rasa_url, [("call_start",), ("speech", "随心借提前还款要手续费吗", "0.95"),
                                           ("dtmf", "1")], channel="ivr", secret=stack.env["IVR_SHARED_SECRET"],
                          call_id=f"c-{uuid.uuid4().hex[:12]}")
    _, twilio = twilio_call(stack, [("speech", "随心借提前还款要手续费吗", "0.95"), ("dtmf", "1")])
    assert [spoken(e) for e in ivr[1:]] == [spoken(e) for e in twilio[1:]]
    for exchange in ivr:
        fit_for_the_ear(exchange)
    assert ivr[1].input["purpose"] == "menu"


def test_a_wechat_voice_message_gets_the_spoken_form_with_keys_to_reply(stack) -> None:
    openid = w.new_openid()

    def voice(recognition: str) -> str:
        request = w.plain_request(w.voice_xml(openid, recognition))
        return w.open_reply(post(request.url(stack.rasa_url), request.body, {"Content-Type": "text/xml"}).text
                            )["Content"]

    text = w.plain_request(w.text_xml(openid, "你好"))  # the conversation (and its privacy notice) first
    post(text.url(stack.rasa_url), text.body, {"Content-Type": "text/xml"})
    first = voice("随心借提前还款要手续费吗")
    assert first.startswith("随心借提前还款") and "请回复1或直接说" in first
    assert len(first) <= SPOKEN_LIMIT and not TTS_HOSTILE.search(first)
    detail = voice("一")  # the key said
    assert detail.startswith("提前还款时，利息只计算到提前还款当日")
    assert user_texts(stack, f"wx:{openid}") == ["你好", "随心借提前还款要手续费吗", "/affirm"]
