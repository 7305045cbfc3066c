"""Compliance, tested: every response in the domain and every answer the actions compose
(for many inputs) passes the checker: no promise of approval/speed/lowest rate, rates only
with their annualised form, no full ID / phone / card number."""
from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.answers import texts as answers
from credit.catalogue.loader import load_catalogue
from credit.compliance import (
    FRAUD_WARNING,
    PRIVACY_NOTICE,
    PRIVACY_NOTICE_VOICE,
    RATE_DISCLAIMER,
    RATE_DISCLAIMER_VOICE,
    check_text,
)
from harness.paths import ROOT as PROJECT_ROOT

ROOT = PROJECT_ROOT
CAT = load_catalogue()


def _domain_texts():
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            for i, variant in enumerate(variants):
                yield f"{path.name}:{name}[{i}]", variant.get("text", "")
                for button in variant.get("buttons") or []:
                    yield f"{path.name}:{name}[{i}] button", button["title"]


DOMAIN_TEXTS = list(_domain_texts())


def test_domain_has_responses():
    assert len(DOMAIN_TEXTS) > 30


@pytest.mark.parametrize("where,text", DOMAIN_TEXTS, ids=[w for w, _ in DOMAIN_TEXTS])
def test_every_domain_response_is_compliant(where, text):
    assert check_text(text) == [], where


@pytest.mark.parametrize("text", [RATE_DISCLAIMER, FRAUD_WARNING, PRIVACY_NOTICE, RATE_DISCLAIMER_VOICE,
                                  PRIVACY_NOTICE_VOICE])
def test_disclaimers_are_compliant(text):
    assert check_text(text) == []


@settings(max_examples=150, deadline=None)
@given(product=st.sampled_from([None, *CAT.product_codes, "随心贷", "不存在的产品"]),
       amount=st.one_of(st.none(), st.integers(min_value=1, max_value=2_000_000)),
       term=st.one_of(st.none(), st.integers(min_value=1, max_value=120)))
def test_rate_answers_are_compliant_and_always_annualised(product, amount, term):
    reply = answers.rate_answer(CAT, product, amount, term)
    assert check_text(reply.text) == []
    assert "年化利率" in reply.text
    assert RATE_DISCLAIMER in reply.text
    voice = answers.rate_answer(CAT, product, amount, term, voice=True)
    assert check_text(voice.text) == [] and "年化利率" in voice.text and RATE_DISCLAIMER_VOICE in voice.text
    assert len(voice.text) < len(reply.text) and "\n" not in voice.text


@settings(max_examples=80, deadline=None)
@given(product=st.sampled_from([None, *CAT.product_codes]),
       amount=st.one_of(st.none(), st.integers(min_value=1, max_value=600_000)),
       term=st.one_of(st.none(), st.integers(min_value=1, max_value=60)))
def test_prepayment_answers_are_compliant(product, amount, term):
    assert check_text(answers.prepayment_answer(CAT, product, amount, term).text) == []


@pytest.mark.parametrize("intent", ["ask_repayment", "ask_overdue", "ask_loan_limit", "ask_eligibility",
                                    "account_service", "unknown"])
@pytest.mark.parametrize("text", ["", "换手机号", "银行卡换了", "密码忘了", "注销账户", "身份证过期了"])
def test_topic_answers_are_compliant(intent, text):
    assert check_text(answers.topic_answer(CAT, intent, text).text) == []


def test_risk_and_handoff_answers_are_compliant():
    for text in (answers.urgent_need_answer(CAT).text, answers.fraud_answer(CAT).text, answers.handoff_message(CAT)):
        assert check_text(text) == []


def test_checker_catches_what_the_replies_must_never_say():
    assert check_text("保证您百分百通过，秒批到账")
    assert check_text("月利率只要0.8%")
    assert check_text("您的手机号13800005678已绑定")


# --- other lenders named (credit/answers/lender_replies.py) and suggestions (credit/answers/suggestions.py) ---

LENDER_NAMES = [lender.name for lender in CAT.other_lenders.names]


@pytest.mark.parametrize("lender", LENDER_NAMES)
def test_other_lender_replies_are_compliant(lender):
    from credit.answers import lender_replies

    named = [lender, LENDER_NAMES[0]]
    texts = [lender_replies.not_us_note(CAT, named), lender_replies.not_us_note(CAT, named, voice=True),
             lender_replies.identity_answer(CAT, [lender]).text,
             lender_replies.identity_answer(CAT, [lender], voice=True).text,
             lender_replies.progress_note(CAT, [lender])]
    for voice in (False, True):
        texts.append(lender_replies.with_not_us(CAT, answers.rate_answer(CAT, None, 20_000, 12, voice=voice),
                                                [lender], voice=voice).text)
    for intent in ("ask_repayment", "ask_overdue", "ask_loan_limit", "ask_eligibility", "account_service"):
        texts.append(lender_replies.with_not_us(CAT, answers.topic_answer(CAT, intent, ""), [lender]).text)
    for text in texts:
        assert check_text(text) == [], text


@pytest.mark.parametrize("message", ["建议App加个还款提醒", "希望以后能支持信用卡还款", "给你们提个意见，字太小了",
                                     "建议保证百分百通过", "我手机13812345678，建议加个提醒", ""])
def test_suggestion_replies_are_compliant(message):
    from credit.answers.suggestions import suggestion_reply

    for voice in (False, True):
        assert check_text(suggestion_reply(CAT.suggestion, message, voice=voice)) == []


@pytest.mark.parametrize("voice", [False, True])
def test_the_fee_answer_lists_every_fee_from_the_catalogue(voice):
    from credit.answers.explain import fees_answer

    cat = load_catalogue()
    text = fees_answer(cat, voice=voice).text
    assert check_text(text) == []
    for product in cat.products:  # each product's prepayment rule, by name
        assert product.name in text and product.prepayment.description.rstrip("。") in text
    assert "罚息" in text and "1.5倍" in text and "放款前不收" in text.replace("都不收取", "不收")
    assert "已包含全部费用" not in text  # the old non-answer


def test_every_risk_signal_reply_is_compliant_and_asks_one_question():
    from credit.catalogue.risk_signals import Finding

    for signal in CAT.risk_signals.signals:
        text = answers.risk_signal_answer(CAT, [Finding(signal, "…")]).text
        assert check_text(text) == [], signal.code
        assert text.count("？") == 1, signal.code


@pytest.mark.parametrize("question", ["年化利率是什么意思", "单利是啥", "征信是什么", "罚息怎么理解",
                                      "等额本息和等额本金哪个利息少", "先息后本和等额本息有什么区别"])
def test_jargon_is_explained_in_plain_words(question):
    from credit.answers.explain import explanation_answer

    reply = explanation_answer(CAT, question, 50000, 24)
    assert reply is not None and check_text(reply.text) == []
    assert "已包含利息和全部费用，最终利率以审批结果" not in reply.text or "总利息" in reply.text


def test_repayment_methods_are_compared_on_the_customers_figures():
    from credit.answers.explain import explanation_answer

    text = explanation_answer(CAT, "等额本息和等额本金哪个利息少", 50000, 24).text
    assert "借5万元、分24期" in text and text.count("总利息") >= 3
    assert "总利息最少的是等额本金" in text


@pytest.mark.parametrize("question", ["年化利率多少", "利息怎么算", "我想借五万"])
def test_a_rate_question_is_not_an_explanation_request(question):
    from credit.answers.explain import explanation_answer

    assert explanation_answer(CAT, question) is None


def test_another_offers_rate_is_put_on_the_annualised_scale():
    from credit.answers.explain import objection_answer

    text = objection_answer(CAT, "利息太高了吧，别家才3%", None, None, None).text
    assert check_text(text) == []
    assert "折成年化大约是36%" in text  # 3% a month
    assert text.index("年化利率(单利)") < text.index("月利率")


def test_too_expensive_gets_smaller_or_longer_each_with_its_total_interest():
    from credit.answers.explain import objection_answer

    text = objection_answer(CAT, "太贵了", None, 50000, 12).text
    assert check_text(text) == []
    assert "少借一些" in text and "期限拉长到24期" in text and "比12期多" in text
    assert text.count("总利息") == 3 and "不建议为了凑额度多借" in text


def test_the_urgent_need_answer_warns_of_fraud_only_when_raised():
    plain = answers.urgent_need_answer(CAT).text
    raised = answers.urgent_need_answer(CAT, fraud_mentioned=True).text
    assert "骗局" not in plain and "骗局" in raised
    assert check_text(plain) == [] and check_text(raised) == []
