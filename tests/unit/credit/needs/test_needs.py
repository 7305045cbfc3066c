"""Need discovery: income, debts, purpose and amount told apart; products matched on purpose and
figures; the recommendation names that product's materials, stays compliant, and only advises."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.needs import ActionAskIncome, ActionRecommendProducts, ValidateNeedForm
from credit.catalogue.loader import CatalogueError, load_catalogue, parse_catalogue
from credit.catalogue.needs import SKIPPED, wants_to_borrow
from credit.compliance import PRIVACY_NOTICE, check_text
from credit.entities import extract_all
from credit.needs.answers import recommendation
from credit.needs.figures import parse_income, parse_monthly_debt
from credit.needs.matching import Need, match_products
from tests.unit.actions.action_kit import all_text, make_tracker, run, slots_of

CAT = load_catalogue()


def entities(text: str) -> dict[str, str]:
    return {s.entity: s.value for s in extract_all(text)}


@pytest.mark.parametrize("text, expected", [
    ("月收入八千左右", {"income": "8000"}),
    ("工资一万二", {"income": "12000"}),
    ("年薪12万", {"income": "10000"}),
    ("每个月还房贷三千", {"monthly_debt": "3000"}),
    ("信用卡每月还1500", {"monthly_debt": "1500"}),
    ("月收入1万，房贷每月3000，想借5万装修",
     {"income": "10000", "monthly_debt": "3000", "amount": "50000", "purpose": "renovation"}),
    ("装修用 大概借10万 分三年", {"purpose": "renovation", "amount": "100000", "term": "36"}),
    ("借8000分6期每期要还多少钱", {"amount": "8000", "term": "6"}),
    ("想借5万做生意周转", {"amount": "50000", "purpose": "business"}),
    ("小微周转贷利息多少", {"product": "zhouzhuan"}),  # a product's name is not a purpose
    ("工单TK202611200017到哪了", {"ticket_number": "TK202611200017"}),
])
def test_income_debt_purpose_and_amount_are_told_apart(text, expected):
    assert entities(text) == expected


def test_bare_answers_to_the_income_and_debt_questions():
    assert parse_income("八千", loose=True) == 8000
    assert parse_income("八千", loose=False) is None
    assert parse_monthly_debt("2000左右", loose=True) == 2000


@pytest.mark.parametrize("text, wants", [
    ("想借点钱 怎么申请", True), ("哪个产品适合我", True), ("想贷款装修 有什么产品", True),
    ("需要什么条件", False), ("被拒了怎么办", False), ("征信花了能借吗", False),
])
def test_a_need_is_told_from_a_conditions_question(text, wants):
    assert wants_to_borrow(text) is wants


def test_purpose_picks_the_product_and_its_materials():
    renovation = recommendation(CAT, Need("renovation", 100000, 24)).text
    assert "安家分期" in renovation and "随心借" not in renovation
    assert "装修合同" in renovation and "房产证明" in renovation and "身份证" in renovation
    assert "借10万元、分24期" in renovation  # the customer's own figures
    business = recommendation(CAT, Need("business", 50000, 12)).text
    assert "小微周转贷" in business and "营业执照" in business and "经营流水" in business
    assert "等额本息" in business  # an example "每月约还" is the same every month, not interest only


def test_unknown_purpose_considers_every_product_fitting_first():
    names = [m.product.code for m in match_products(CAT, Need(None, 5000, 3))]
    assert names[0] == "suixinjie"  # 5,000 is below 安家分期's minimum
    assert all(m.fits for m in match_products(CAT, Need(None, 5000, 3))[:1])


def test_figures_no_product_fits_are_said_and_the_nearest_shown():
    text = recommendation(CAT, Need("renovation", 5000, 7)).text
    assert CAT.needs.no_fit in text and "安家分期" in text


def test_debt_repayment_is_not_a_purpose_we_lend_for():
    reply = recommendation(CAT, Need("debt"))
    assert "不能用于归还其他贷款" in reply.text and "年化" not in reply.text


def test_affordability_only_advises_and_never_decides():
    high = recommendation(CAT, Need("renovation", 100000, 24, income=10000, monthly_debt=3000)).text
    assert "超过了一半" in high and "不代表审批结果" in high and "少借一些" in high
    assert "总利息会多" in high  # a longer term is not sold as cheaper
    low = recommendation(CAT, Need("consumption", 5000, 12, income=20000, monthly_debt=0)).text
    assert "比较稳妥" in low


@pytest.mark.parametrize("need", [
    Need(), Need("renovation", 100000, 24, 10000, 3000), Need("business", 500000, 24, 8000, None),
    Need("consumption", 1000, 3, 3000, 2500), Need("medical", 300000, 60), Need("debt"), Need("travel", 8000, 9),
])
@pytest.mark.parametrize("voice", [False, True])
def test_every_recommendation_is_compliant(need, voice):
    text = recommendation(CAT, need, voice=voice).text
    assert check_text(text) == [], text


def test_voice_recommendation_is_one_product_for_the_ear():
    text = recommendation(CAT, Need("renovation", 100000, 24), voice=True).text
    assert "安家分期" in text and "\n" not in text and "装修合同" in text and len(text) < 260


def test_a_product_with_an_unknown_purpose_is_refused():
    raw = yaml.safe_load(Path("credit/catalogue.yml").read_text("utf-8"))
    raw["products"]["anjia"]["purposes"] = ["renovation", "yacht"]
    with pytest.raises(CatalogueError, match="products.anjia.purposes.*yacht"):
        parse_catalogue(raw)


def test_a_purpose_pattern_that_does_not_compile_is_refused():
    raw = yaml.safe_load(Path("credit/catalogue.yml").read_text("utf-8"))
    raw["needs"]["purposes"][0]["patterns"] = ["装修("]
    with pytest.raises(CatalogueError, match="不是合法的正则表达式"):
        parse_catalogue(raw)


# ------------------------------------------------------------------ the form

def validate(slot: str, value, text: str, intent: str = "inform", requested: str | None = None, slots=None):
    form = ValidateNeedForm()
    tracker = make_tracker(text=text, intent=intent, active_loop="need_form",
                           slots={"requested_slot": requested or slot, **(slots or {})})
    dispatcher = CollectingDispatcher()
    result = getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {})
    return result, all_text(dispatcher.messages)


def test_form_reads_each_answer_and_lets_every_question_be_skipped(svc):
    assert validate("purpose", "装修用的", "装修用的")[0] == {"purpose": "renovation"}
    assert validate("purpose", "买个摩托车", "买个摩托车")[0] == {"purpose": SKIPPED}
    assert validate("amount", "5万 分24期", "5万 分24期")[0] == {"amount": "50000", "term": "24"}
    assert validate("amount", "跳过", "跳过")[0] == {"amount": SKIPPED}
    assert validate("income", "不方便说", "不方便说", intent="deny")[0] == {"income": SKIPPED}
    assert validate("income", "一万二 房贷每月3000", "一万二 房贷每月3000")[0] == {"income": "12000",
                                                                                "monthly_debt": "3000"}
    assert validate("monthly_debt", "没有", "没有", intent="deny")[0] == {"monthly_debt": "0"}


def test_form_stop_words_end_it_and_unclear_figures_are_asked_again(svc):
    stopped, _ = validate("amount", "算了不借了", "算了不借了", slots={"purpose": "renovation"})
    assert stopped == {"purpose": "renovation", "amount": SKIPPED, "term": SKIPPED, "income": SKIPPED,
                       "monthly_debt": SKIPPED}
    again, said = validate("amount", "看情况吧", "看情况吧")
    assert again == {"amount": None} and said == CAT.needs.unclear


def test_an_income_answer_never_overwrites_the_loan_amount(svc):
    earlier = [{"event": "slot", "name": "amount", "value": "50000"}]
    form = ValidateNeedForm()
    tracker = make_tracker(text="八千", active_loop="need_form", events=earlier,
                           slots={"requested_slot": "income", "amount": "8000"})
    assert form.validate_amount("8000", CollectingDispatcher(), tracker, {}) == {"amount": "50000"}


def test_full_privacy_notice_comes_once_before_income_is_first_asked(svc):
    messages, events = run(ActionAskIncome(), make_tracker(active_loop="need_form"))
    assert all_text(messages).startswith(PRIVACY_NOTICE) and CAT.needs.ask_income in all_text(messages)
    assert slots_of(events) == {"privacy_full_shown": True}
    messages, events = run(ActionAskIncome(), make_tracker(slots={"privacy_full_shown": True}))
    assert PRIVACY_NOTICE not in all_text(messages) and events == []


def test_recommendation_from_the_slots(svc):
    tracker = make_tracker(text="没有", slots={"purpose": "renovation", "amount": "100000", "term": "24",
                                              "income": SKIPPED, "monthly_debt": None})
    messages, _ = run(ActionRecommendProducts(), tracker)
    assert "安家分期" in all_text(messages) and "装修合同" in all_text(messages)
    stopped, _ = run(ActionRecommendProducts(), make_tracker(text="算了不借了"))
    assert "安家分期" not in all_text(stopped)


def test_only_a_plain_no_means_no_debts(svc):
    assert validate("monthly_debt", "没想好", "没想好")[0] == {"monthly_debt": SKIPPED}
    assert validate("monthly_debt", "无所谓", "无所谓")[0] == {"monthly_debt": None}  # asked again
    assert validate("monthly_debt", "没有的", "没有的")[0] == {"monthly_debt": "0"}


def test_a_conditions_question_naming_a_purpose_is_answered_not_turned_into_discovery(svc):
    from actions.needs import starts_need_discovery

    tracker = make_tracker(text="装修贷款需要什么材料", intent="ask_eligibility",
                           entities=[{"entity": "purpose", "value": "renovation"}])
    assert not starts_need_discovery(tracker)
    assert starts_need_discovery(make_tracker(text="装修用 想借点钱", intent="ask_eligibility",
                                              entities=[{"entity": "purpose", "value": "renovation"}]))


def test_a_need_taken_back_is_not_kept(svc):
    slots = {"purpose": "renovation", "amount": SKIPPED, "term": SKIPPED, "income": SKIPPED, "monthly_debt": SKIPPED}
    _, events = run(ActionRecommendProducts(), make_tracker(text="算了不借了", slots=slots))
    assert {k: v for k, v in slots_of(events).items() if k in slots} == dict.fromkeys(slots)
