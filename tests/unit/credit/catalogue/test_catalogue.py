"""Catalogue loader: figures, look-ups, formatting and validation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from credit.catalogue.loader import (
    DEFAULT_PATH,
    Catalogue,
    CatalogueError,
    UnknownProductError,
    format_apr,
    format_apr_range,
    format_percent,
    load_catalogue,
)
from credit.compliance import check_text
from harness.paths import ROOT as PROJECT_ROOT


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "catalogue.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_default_is_cached(cat: Catalogue) -> None:
    assert load_catalogue() is cat
    assert load_catalogue(DEFAULT_PATH) is not cat
    assert load_catalogue(DEFAULT_PATH) == cat


def test_products_and_figures(cat: Catalogue) -> None:
    assert cat.product_codes == ("suixinjie", "anjia", "zhouzhuan")
    sx = cat.product("suixinjie")
    assert sx.name == "随心借"
    assert sx.terms == (3, 6, 9, 12, 24, 36)
    assert sx.repayment_methods == ("equal_installment", "equal_principal")
    assert sx.method_names == ("等额本息", "等额本金")
    assert (sx.amount_min, sx.amount_max) == (Decimal(1000), Decimal(200000))
    assert (sx.apr_min, sx.apr_max) == (Decimal("0.072"), Decimal("0.239"))
    assert not sx.secured

    aj = cat.product("anjia")
    assert aj.name == "安家分期"
    assert aj.repayment_methods == ("equal_installment",)
    assert (aj.term_min, aj.term_max) == (6, 60)
    assert (aj.apr_min, aj.apr_max) == (Decimal("0.065"), Decimal("0.154"))

    zz = cat.product("zhouzhuan")
    assert zz.name == "小微周转贷"
    assert zz.repayment_methods == ("interest_only", "equal_installment")
    assert (zz.term_min, zz.term_max) == (3, 24)
    assert (zz.apr_min, zz.apr_max) == (Decimal("0.08"), Decimal("0.18"))

    for p in cat.products:
        assert p.apr_max <= cat.legal_cap_apr == Decimal("0.24")


def test_unknown_product_is_a_key_error(cat: Catalogue) -> None:
    with pytest.raises(KeyError):
        cat.product("nope")
    with pytest.raises(UnknownProductError, match="suixinjie"):
        cat.product("nope")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("随心借的利率是多少", "suixinjie"),
        ("我想问下随心贷", "suixinjie"),
        ("随信借怎么还", "suixinjie"),
        ("随 心 借", "suixinjie"),
        ("装修贷能借多少", "anjia"),
        ("安家分期", "anjia"),
        ("小微周转贷利率", "zhouzhuan"),
        ("经营贷", "zhouzhuan"),
        ("ZhouZhuan", "zhouzhuan"),
    ],
)
def test_find_product(cat: Catalogue, text: str, code: str) -> None:
    found = cat.find_product(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["", "我想借钱", "信用卡分期"])
def test_find_product_none(cat: Catalogue, text: str) -> None:
    assert cat.find_product(text) is None


def test_format_apr_range(cat: Catalogue) -> None:
    assert format_apr_range(cat.product("suixinjie")) == "年化利率(单利) 7.2%–23.9%"
    assert format_apr_range(cat.product("anjia")) == "年化利率(单利) 6.5%–15.4%"
    assert format_apr_range(cat.product("zhouzhuan")) == "年化利率(单利) 8%–18%"
    assert format_apr(Decimal("0.12")) == "年化利率(单利) 12%"
    assert format_percent("0.1234567") == "12.35%"
    for p in cat.products:
        assert check_text(format_apr_range(p)) == []


def test_prepayment_rules(cat: Catalogue) -> None:
    sx = cat.product("suixinjie").prepayment
    assert sx.fee_rate_for(paid_periods=2, loan_age_months=2) == Decimal("0.01")
    assert sx.fee_rate_for(paid_periods=3, loan_age_months=3) == 0
    aj = cat.product("anjia").prepayment
    assert aj.fee_rate_for(0, 0) == 0
    zz = cat.product("zhouzhuan").prepayment
    assert zz.fee_rate_for(paid_periods=5, loan_age_months=5) == Decimal("0.02")
    assert zz.fee_rate_for(paid_periods=6, loan_age_months=6) == 0
    # 周转贷 counts loan age, not paid instalments
    assert zz.fee_rate_for(paid_periods=0, loan_age_months=6) == 0


def test_service_info(cat: Catalogue) -> None:
    assert cat.hotline.number == "400-820-8820"
    assert cat.sla_hours("complaint") == 24
    assert cat.sla_hours("negotiation") == 48
    assert cat.sla_hours("settlement_certificate") == 72
    for code in ("reviewing", "pending_signature", "disbursed", "rejected", "cancelled"):
        stage = cat.stage(code)
        assert stage.plain and stage.next_step and stage.expected_time
    assert cat.stage("reviewing").name == "审批中"
    assert cat.find_stage("待签约").code == "pending_signature"
    assert cat.stage("disbursed").final and not cat.stage("disbursed").cancellable
    assert cat.method_name("interest_only") == "先息后本"
    assert cat.account_service("change_phone").steps
    assert cat.settlement_certificate.sla_kind == "settlement_certificate"


def test_overdue_rules(cat: Catalogue) -> None:
    od = cat.overdue
    assert od.grace_days == 3
    assert od.in_grace(3) and not od.in_grace(4)
    assert od.penalty_apr("0.12") == Decimal("0.18")
    assert od.penalty_apr("0.239") == Decimal("0.24")  # capped at the legal line
    assert od.penalty_apr_max <= cat.legal_cap_apr


def test_demo_loan(cat: Catalogue) -> None:
    demo = cat.demo_loan
    assert (demo.product, demo.annual_rate, demo.method) == (
        "suixinjie", Decimal("0.12"), "equal_installment")
    assert cat.product(demo.product).rate_in_range(demo.annual_rate)


def test_every_catalogue_text_passes_the_compliance_checker() -> None:
    """Each text as a customer reads it: a product's own texts are shown under its name
    ("安家分期：任何时候提前还款均免手续费"), so they are checked that way."""
    raw = _raw()

    def walk(node, path="catalogue", owner=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{path}.{k}", owner)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{path}[{i}]", owner)
        elif isinstance(node, str):
            yield path, f"{owner}：{node}" if owner else node

    texts = list(walk({k: v for k, v in raw.items() if k != "products"}))
    for code, product in raw["products"].items():
        texts += walk(product, f"catalogue.products.{code}", product["name"])
    problems = {path: check_text(text) for path, text in texts if check_text(text)}
    assert problems == {}


# --- validation --------------------------------------------------------------


def test_rejects_apr_above_legal_cap(tmp_path: Path) -> None:
    raw = _raw()
    raw["products"]["suixinjie"]["apr_max"] = 0.36
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(_write(tmp_path, raw))
    message = str(exc.value)
    assert "products.suixinjie" in message
    assert "apr_max 36%" in message
    assert "legal_cap_apr 24%" in message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r["products"]["anjia"].update(apr_min=0.2, apr_max=0.1), "apr_min 20% 大于 apr_max 10%"),
        (lambda r: r["products"]["anjia"].update(terms=[]), "terms 不能为空"),
        (lambda r: r["products"]["anjia"].update(terms=[6, 0]), "不是正整数"),
        (lambda r: r["products"]["anjia"].update(repayment_methods=["balloon"]), "未知还款方式 'balloon'"),
        (lambda r: r["products"]["anjia"].update(repayment_methods=[]), "repayment_methods 不能为空"),
        (lambda r: r["products"]["anjia"].update(amount_min=500000), "金额区间无效"),
        (lambda r: r["products"]["anjia"].pop("apr_max"), "缺少 apr_max"),
        (lambda r: r["products"]["anjia"].update(apr_max=12), "小数形式"),
        (lambda r: r["repayment_methods"].update(balloon={"name": "气球贷", "description": "x"}),
         "未知还款方式 'balloon'"),
        (lambda r: r["products"].clear(), "至少需要一个产品"),
        (lambda r: r["products"]["anjia"]["aliases"].append("随心贷"), "随心贷"),
        (lambda r: r["overdue"].update(penalty_apr_max=0.3), "penalty_apr_max 30%"),
        (lambda r: r["stages"].pop("reviewing"), "reviewing"),
        (lambda r: r["slas"]["complaint"].update(reply_hours=0), "reply_hours"),
        (lambda r: r["demo_loan"].update(annual_rate=0.05), "demo_loan.annual_rate"),
        (lambda r: r["demo_loan"].update(method="interest_only"), "demo_loan.method"),
        (lambda r: r["hotline"].update(number="13812345678"), "hotline.number"),
        (lambda r: r["account_services"]["change_phone"].update(sla_kind="nope"), "未定义的工单类型"),
    ],
)
def test_rejects_invalid(tmp_path: Path, mutate, expected: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(CatalogueError, match=expected.replace("(", r"\(")):
        load_catalogue(_write(tmp_path, raw))


def test_rejects_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="无法读取"):
        load_catalogue(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("products: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match="YAML"):
        load_catalogue(bad)
    bad.write_text("- just a list", encoding="utf-8")
    with pytest.raises(CatalogueError, match="映射"):
        load_catalogue(bad)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        # unknown fields are refused, wherever they are
        (lambda r: r["products"]["anjia"].update(colour="red"), "products.anjia 有未知字段 colour"),
        (lambda r: r["stages"]["reviewing"].update(colour="red"), "stages.reviewing 有未知字段 colour"),
        (lambda r: r.update(extra=1), "catalogue 有未知字段 extra"),
        (lambda r: r["products"]["anjia"].update(code="anjia"), "不能再写 code"),
        # nothing is coerced: true is not 1, "24" is not 24, a list of pairs is not a mapping
        (lambda r: r["products"]["anjia"].update(secured=1), "products.anjia.secured 应为 true/false"),
        (lambda r: r["stages"]["reviewing"].update(final="false"), "stages.reviewing.final 应为 true/false"),
        (lambda r: r.update(version=True), "version 应为整数"),
        (lambda r: r["slas"]["complaint"].update(reply_hours="24"), "slas.complaint.reply_hours 应为整数"),
        (lambda r: r["products"]["anjia"].update(terms=[6, True]), "terms 中的 True 不是正整数月数"),
        (lambda r: r["products"]["anjia"].update(terms=["12"]), "terms 中的 '12' 不是正整数月数"),
        (lambda r: r["products"]["anjia"].update(amount_min=True), "products.anjia.amount_min 应为数字"),
        (lambda r: r.update(hotline=[["number", "400-820-8820"]]), "hotline 应为映射"),
        (lambda r: r["products"]["anjia"].update(aliases=["装修贷", 5]), "aliases 中有空的或非文本的条目: 5"),
        # written but empty is missing; codes must be codes
        (lambda r: r["slas"]["complaint"].update(resolve_days=None), "slas.complaint 缺少 resolve_days"),
        (lambda r: r["stages"].update(Bad=r["stages"]["reviewing"]), "stages.Bad: 代码 'Bad'"),
        (lambda r: r["overdue"].update(penalty_multiplier=0), "overdue.penalty_multiplier 必须大于 0"),
    ],
)
def test_rejects_unknown_fields_and_coercible_values(tmp_path: Path, mutate, expected: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(CatalogueError, match=expected):
        load_catalogue(_write(tmp_path, raw))


def test_optional_lists_may_be_empty_or_left_out(tmp_path: Path) -> None:
    raw = _raw()
    raw["products"]["anjia"]["aliases"] = None
    raw["products"]["anjia"].pop("eligibility")
    raw["products"]["anjia"]["materials"] = []
    anjia = load_catalogue(_write(tmp_path, raw)).product("anjia")
    assert (anjia.aliases, anjia.eligibility, anjia.materials) == ((), (), ())


def test_every_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    raw = _raw()
    raw["products"]["anjia"]["terms"] = []
    raw["hotline"]["number"] = "110"
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(_write(tmp_path, raw))
    assert "products.anjia.terms 不能为空" in str(exc.value)
    assert "hotline.number '110'" in str(exc.value)


def test_catalogue_is_immutable(cat: Catalogue) -> None:
    with pytest.raises(TypeError):
        cat.product("anjia").apr_max = Decimal("0.3")  # type: ignore[misc]


def test_no_text_promises_a_notification_the_system_does_not_send() -> None:
    """扣款失败提醒, 到账通知, 提额结果, 处理完毕短信通知, 专人联系 …: no outreach sends them yet
    (the outreach issue), so no catalogue text or response may promise them."""
    import re

    import yaml

    promise = re.compile(r"短信(?:通知|提醒)|会(?:短信)?通知您|到账通知|专人联系您|专员联系您|结果会通过短信")
    texts = [str(v) for v in _walk_strings(_raw())]
    responses = yaml.safe_load((PROJECT_ROOT / "domain" / "responses.yml").read_text("utf-8"))
    texts += [r["text"] for variants in responses["responses"].values() for r in variants if "text" in r]
    assert [t for t in texts if promise.search(t)] == []


def _walk_strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_strings(value)
    elif isinstance(node, str):
        yield node
