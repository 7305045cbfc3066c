"""Issue 28: every answer kind rendered for voice, every turn of it walked (the next point, every product chosen
by key), and each turn as the caller hears it (the ear gate plus the key menu) checked: at most 150 spoken
characters, nothing a TTS engine reads badly, figures in words, compliant; the point that answers comes first;
no charge is ever left unsaid; only the product in context is spoken of."""
from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator, List, Optional

import pytest

from credit.answers import explain, texts
from credit.catalogue.loader import load_catalogue
from credit.compliance import RATE_DISCLAIMER_VOICE, check_text
from credit.needs.matching import Need
from credit.views import LoanView, ProgressView, TicketView
from credit.voice import generic, kinds, money, service
from credit.voice.turns import SPOKEN_LIMIT, TTS_HOSTILE, Ask, Turn, VoiceForm, first_turn, next_turn

CAT = load_catalogue()
PRODUCTS = [None, *(p.code for p in CAT.products)]
ASCII_DIGIT = re.compile(r"[0-9]")
QUESTIONS = {
    "prepayment": ["提前还款要手续费吗", "提前还款利息怎么算", "可以只还一部分吗", "怎么办理提前还款", "提前还款"],
    "repayment": ["我每个月几号还款", "几点扣款", "怎么还款", "能改还款日吗", "过年怎么还", "扣款失败了"],
    "overdue": ["逾期了会怎么样", "逾期多久会上征信", "罚息怎么算", "晚还两天行吗", "会不会打电话给我家人",
                "还不上了怎么办"],
    "eligibility": ["申请需要什么条件和材料", "要准备什么材料", "多大年龄能申请", "申请收费吗", "装修贷要什么材料"],
    "limits": ["额度怎么提", "在哪看额度", "额度为什么降了", "还了钱额度会恢复吗"],
    "account": ["怎么换银行卡", "手机号换了怎么办", "忘记密码", "账户问题"],
    "rates": ["你们的贷款利率是多少", "利息多少", "借1万分12期每月还多少"],
    "fees": ["你们有哪些手续费", "放款前要交钱吗", "提前还款收费吗", "逾期罚息多少"],
    "methods": ["等额本息和等额本金哪个利息少", "先息后本是什么意思"],
}
FIGURES = [(None, None), (20_000, 12), (50_000, 24), (500, 3), (100_000, 7)]


def walk(turn: Optional[Turn]) -> Iterator[Turn]:
    """Every turn from ``turn``: the next point by key 1, and at a product question every product chosen."""
    seen = 0
    pending = [turn]
    while pending and seen < 200:
        turn = pending.pop()
        if turn is None:
            continue
        seen += 1
        yield turn
        state = turn.state
        if state.get("ask") == "product":
            pending += [kinds.with_product(CAT, state, code) for code in PRODUCTS[1:]]
        elif state.get("rest"):
            pending.append(next_turn(state))


def assert_fit_for_the_ear(turn: Turn) -> str:
    heard = turn.spoken()
    assert len(heard) <= SPOKEN_LIMIT, (len(heard), heard)
    assert not TTS_HOSTILE.search(heard), heard
    assert not ASCII_DIGIT.search(heard), heard  # figures and dates in words
    assert check_text(heard) == [], (check_text(heard), heard)
    assert check_text(turn.text) == [], turn.text  # the text the message carries too
    return heard


def general_forms() -> Iterator[tuple[str, str, Optional[str], VoiceForm]]:
    for kind, questions in QUESTIONS.items():
        for question, product, (amount, term) in itertools.product(questions, PRODUCTS, FIGURES):
            yield kind, question, product, kinds.build(CAT, kind, Ask(question, product, amount, term))


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_every_turn_of_every_general_kind_is_fit_for_the_ear(kind: str) -> None:
    turns = 0
    for _, question, _, form in (f for f in general_forms() if f[0] == kind):
        for turn in walk(first_turn(form, question)):
            assert_fit_for_the_ear(turn)
            turns += 1
    assert turns > 20


def test_the_point_that_answers_comes_first() -> None:
    expected = {
        ("prepayment", "提前还款利息怎么算"): "interest", ("prepayment", "提前还款要手续费吗"): "fee",
        ("prepayment", "可以只还一部分吗"): "partial", ("prepayment", "怎么办理提前还款"): "how",
        ("repayment", "我每个月几号还款"): "due_day", ("repayment", "能改还款日吗"): "change",
        ("overdue", "逾期多久会上征信"): "credit_report", ("overdue", "罚息怎么算"): "penalty",
        ("overdue", "逾期了会怎么样"): "grace", ("eligibility", "要准备什么材料"): "materials",
        ("limits", "额度怎么提"): "increase", ("fees", "你们有哪些手续费"): "upfront",
        ("fees", "逾期罚息多少"): "penalty",
    }
    for (kind, question), key in expected.items():
        turn = first_turn(kinds.build(CAT, kind, Ask(question, "suixinjie")), question)
        assert turn.point == key, (kind, question, turn.point)
    said = first_turn(kinds.build(CAT, "prepayment", Ask("提前还款利息怎么算")), "提前还款利息怎么算").spoken()
    assert said.startswith("提前还款时，利息只计算到提前还款当日") and "请按一" in said


def test_the_issue_s_example_offer_of_the_next_point() -> None:
    turn = first_turn(kinds.build(CAT, "prepayment", Ask("提前还款要手续费吗", "随心借")), "提前还款要手续费吗")
    heard = turn.spoken()
    assert heard.startswith("随心借提前还款") and "百分之一" in heard
    assert "想听提前还款怎么算利息，请按一或直接说" in heard
    assert turn.buttons[0] == {"title": "想听提前还款怎么算利息", "payload": "/affirm", "key": "1", "say_it": True,
                               "cues": ["利息", "怎么算", "计息", "算到", "省多少", "少付"]}


def test_no_charge_is_ever_left_unsaid() -> None:
    """Every fee point of a form is said in some turn of the walk, and the first turn names each one it does
    not say ("还有两项费用：…，想听请按1"), or — where a topic's rate word would sit next to a fee's percentage —
    says that charges are still to come ("后面还有费用要说明", the issue's "还有两项费用，想听请按2")."""
    for kind, question, product, form in general_forms():
        fees = [p for p in form.points if p.fee and (p.text or p.needs_product)]
        first = first_turn(form, question)
        heard = first.spoken()
        for fee in fees:
            if first.point != fee.key:
                assert (fee.topic and fee.topic in heard) or "费用要说明" in heard, (kind, question, product, heard)
        said = {t.point for t in walk(first)} | {t.point.rstrip("+") for t in walk(first) if t.point}
        for fee in fees:
            assert fee.key in said or form.product is None, (kind, question, product, fee.key)


def test_fees_answer_names_both_charges_then_says_them() -> None:
    form = money.fees(CAT, Ask("你们有哪些手续费"))
    first = first_turn(form, "你们有哪些手续费")
    assert "放款前不收任何费用" in first.spoken()
    assert "还有两项费用：提前还款的手续费和逾期罚息，想听请按一或直接说" in first.spoken()
    question = next_turn(first.state)
    assert question.state["ask"] == "product" and "选好以后我再说逾期罚息" in question.spoken()
    chosen = kinds.with_product(CAT, question.state, "zhouzhuan")
    assert chosen.spoken().startswith("小微周转贷提前还款") and "百分之二" in chosen.spoken()
    assert next_turn(chosen.state).spoken().startswith("逾期的话")


def test_only_the_product_in_context_is_spoken_of() -> None:
    names = {p.code: p.name for p in CAT.products}
    for kind in ("prepayment", "rates", "eligibility", "fees"):
        for code in names:
            form = kinds.build(CAT, kind, Ask("", code))
            for turn in walk(first_turn(form)):
                others = [n for c, n in names.items() if c != code and n in turn.spoken()]
                assert not others or kind == "limits", (kind, code, turn.spoken())


def test_without_a_product_the_caller_is_asked_which_one_by_key() -> None:
    turn = first_turn(kinds.build(CAT, "prepayment", Ask("提前还款要手续费吗")), "提前还款要手续费吗")
    assert turn.state["ask"] == "product" and "请问您问的是哪款" in turn.spoken()
    assert [(b["key"], b["title"]) for b in turn.buttons] == [(str(i), p.name) for i, p in enumerate(CAT.products, 1)]
    assert turn.buttons[1]["payload"] == '/affirm{"product":"anjia"}'
    chosen = kinds.with_product(CAT, turn.state, "anjia")
    assert chosen.spoken().startswith("安家分期提前还款") and "任何时候" in chosen.spoken()


def test_rate_answers_keep_annualised_wording_and_the_short_disclaimer() -> None:
    for product, (amount, term) in itertools.product(PRODUCTS, FIGURES):
        turn = first_turn(money.rates(CAT, Ask("利率多少", product, amount, term)), "利率多少")
        heard = turn.spoken()
        assert "年化利率，按单利计算" in heard and RATE_DISCLAIMER_VOICE in turn.text, heard
    methods = first_turn(money.methods(CAT, Ask("等额本息和等额本金哪个利息少")), "哪个利息少")
    assert "年化" in methods.spoken() and RATE_DISCLAIMER_VOICE in methods.text


def test_jargon_and_the_recommendation_for_the_ear() -> None:
    forms = [money.explanation(CAT, Ask(q)) for q in ("年化利率是什么意思", "征信是什么", "罚息是什么", "单利是什么")]
    purposes = [None, *(p.code for p in CAT.needs.purposes)]
    forms += [money.recommendation(CAT, Need(purpose, amount, term, income, debt))
              for purpose, (amount, term), income, debt in itertools.product(
                  purposes, FIGURES, (None, 8000), (None, 3000))]
    for form in forms:
        assert form is not None
        for turn in walk(first_turn(form)):
            assert_fit_for_the_ear(turn)
    rec = first_turn(money.recommendation(CAT, Need("renovation", 100_000, 24)))
    assert rec.spoken().startswith("比较适合您的是安家分期，年化利率，按单利计算")


def _progress(stage: str) -> ProgressView:
    info = CAT.stage({"pending_signing": "pending_signature", "declined": "rejected"}.get(stage, stage))
    now = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    return ProgressView("SQ202611200001", stage, info.name, info.plain, info.next_step, info.expected_time, None,
                        "suixinjie", "随心借", Decimal(50_000), 36, now, now)


def _loan(paid: int) -> LoanView:
    return LoanView("SQ202611180002", "suixinjie", "随心借", Decimal(20_000), Decimal("0.12"), 12, "equal_installment",
                    "等额本息", "disbursed", datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc), paid,
                    Decimal("15123.45"), date(2026, 12, 26) if paid < 12 else None,
                    Decimal("1776.98") if paid < 12 else None, ())


def test_the_service_answers_for_the_ear() -> None:
    stages = ("submitted", "reviewing", "need_documents", "pending_signing", "disbursing", "disbursed", "declined",
              "cancelled")
    forms: List[VoiceForm] = [service.progress(CAT, _progress(s)) for s in stages]
    forms += [f(CAT, _loan(paid)) for f in (service.loan_details, service.loan_prepayment) for paid in (0, 2, 5, 12)]
    forms += [service.fraud(CAT), service.urgent_need(CAT, True, texts.FAST_LANE_SCAM),
              service.urgent_need(CAT, False, texts.FAST_LANE_SCAM)]
    forms += [service.handoff(CAT, datetime(2026, 12, 1, h, 0, tzinfo=timezone.utc)) for h in (2, 10, 14, 20, 23)]
    findings = CAT.risk_signals.find("刚换工作，好几个平台都借过，征信查询很多，负债有点高，到时候再想办法还")
    assert len(findings) >= 3
    forms += [service.risk_signals(CAT, findings[i:]) for i in range(len(findings))]
    for form in forms:
        for turn in walk(first_turn(form)):
            assert_fit_for_the_ear(turn)
    status = first_turn(forms[1]).spoken()
    assert "S Q，二零二六，幺幺二零，零零零幺" in status and "审批中" in status
    payoff = first_turn(service.loan_prepayment(CAT, _loan(2))).spoken()
    assert "手续费" in payoff and "合计要还" in payoff
    risk = first_turn(service.risk_signals(CAT, findings)).spoken()
    assert findings[0].signal.question.rstrip("？?") in risk  # the one verifying question is asked at once


def _ticket(kind: str, contact: Optional[str]) -> TicketView:
    now = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    return TicketView("TK202612010001", kind, "slow", "open", 24, now + timedelta(hours=24), now, "SQ202611200001",
                      "审批太慢", contact)


def test_any_text_answer_cut_into_spoken_points() -> None:
    """The answers without a form of their own: each text form in points that fit, nothing left out."""
    replies = [texts.ticket_answer(CAT, _ticket(k, c), c) for k in ("complaint", "negotiation", "callback")
               for c in (None, "registered", "13800001234")]
    replies += [explain.objection_answer(CAT, q, p, a, t) for q in ("太贵了吧", "别家才3%", "利息太高了")
                for p in PRODUCTS for a, t in FIGURES]
    replies += [texts.fraud_answer(CAT), texts.urgent_need_answer(CAT, True), texts.topic_answer(CAT, "ask_overdue"),
                texts.prepayment_answer(CAT, None, 20_000, 12)]
    for reply in replies:
        form = generic.from_text("answer", reply.text, reply.buttons)
        said = ""
        for turn in walk(first_turn(form)):
            assert_fit_for_the_ear(turn)
            said += turn.text
        assert re.sub(r"\s", "", said) == re.sub(r"\s", "", reply.text.replace("\n", "")) or \
            set(re.sub(r"[\s。]", "", said)) >= set(re.sub(r"[\s。]", "", reply.text)), reply.text[:40]


def test_the_state_of_a_turn_is_plain_json() -> None:
    import json

    for _, question, _, form in itertools.islice(general_forms(), 0, None, 37):
        turn = first_turn(form, question)
        assert json.loads(json.dumps(turn.state, ensure_ascii=False)) == turn.state
