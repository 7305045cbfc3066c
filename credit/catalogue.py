"""Product and service catalogue: typed view of ``credit/catalogue.yml``.

``catalogue.yml`` is the single source of truth for products, annualised rate
ranges, terms, repayment methods, amounts, prepayment fee rules, the hotline,
SLAs, application stages, overdue rules, limits, eligibility, repayment rules,
the settlement-certificate process and account-service procedures.

Rates are ``Decimal`` fractions (``Decimal("0.072")`` is 7.2%) and always mean
the all-in annualised rate (年化利率, 单利: interest plus every fee, computed on
the principal actually outstanding, i.e. monthly IRR x 12) required by the PBOC
announcement 〔2021〕第3号. Amounts are ``Decimal`` yuan.

The loader validates the file and raises :class:`CatalogueError` with a clear
message when, for example, a product's ``apr_max`` exceeds ``legal_cap_apr``
(the 24% judicial protection line), ``apr_min > apr_max``, a repayment method is
unknown or a product has no terms.

Show a rate range only through :func:`format_apr_range`, so every reply uses the
same compliant wording (``年化利率(单利) 7.2%–23.9%``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import yaml

DEFAULT_PATH = Path(__file__).with_name("catalogue.yml")

#: Repayment methods the calculators implement (code -> Chinese name).
SUPPORTED_METHODS: Mapping[str, str] = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "先息后本",
}

#: Stages every catalogue must describe (the application workflow relies on them).
REQUIRED_STAGES = ("reviewing", "pending_signature", "disbursed", "rejected", "cancelled")

#: Ticket kinds every catalogue must give an SLA for.
REQUIRED_SLAS = ("complaint", "negotiation", "settlement_certificate")

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """The catalogue file is missing, malformed or violates a business rule."""


class UnknownProductError(CatalogueError, KeyError):
    """No product has the requested code."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hotline:
    number: str
    hours: str
    online: str
    note: str


@dataclass(frozen=True)
class RepaymentMethod:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class PrepaymentRule:
    """Fee for prepaying principal, as a fraction of the prepaid principal.

    The fee is waived once ``free_after_periods`` instalments have been paid or
    the loan is ``free_after_months`` months old (whichever is configured); a
    ``fee_rate`` of 0 means prepayment is always free.
    """

    fee_rate: Decimal
    description: str
    free_after_periods: int | None = None
    free_after_months: int | None = None

    def fee_rate_for(self, paid_periods: int, loan_age_months: int) -> Decimal:
        """The fee rate that applies after ``paid_periods`` instalments / ``loan_age_months``."""
        if self.fee_rate == 0:
            return Decimal("0")
        if self.free_after_periods is not None and paid_periods >= self.free_after_periods:
            return Decimal("0")
        if self.free_after_months is not None and loan_age_months >= self.free_after_months:
            return Decimal("0")
        return self.fee_rate


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    aliases: tuple[str, ...]
    category: str
    description: str
    secured: bool
    revolving: bool
    amount_min: Decimal
    amount_max: Decimal
    amount_step: Decimal
    terms: tuple[int, ...]
    repayment_methods: tuple[str, ...]
    apr_min: Decimal
    apr_max: Decimal
    prepayment: PrepaymentRule
    disbursement: str
    eligibility: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The product name followed by its aliases."""
        return (self.name, *self.aliases)

    @property
    def method_names(self) -> tuple[str, ...]:
        """Chinese names of the supported repayment methods, e.g. ``("等额本息", "等额本金")``."""
        return tuple(SUPPORTED_METHODS[m] for m in self.repayment_methods)

    @property
    def term_min(self) -> int:
        return self.terms[0]

    @property
    def term_max(self) -> int:
        return self.terms[-1]

    def supports_term(self, months: int) -> bool:
        return months in self.terms

    def supports_method(self, method: str) -> bool:
        return method in self.repayment_methods

    def amount_in_range(self, amount: Decimal | int | str) -> bool:
        value = Decimal(str(amount))
        return self.amount_min <= value <= self.amount_max

    def rate_in_range(self, annual_rate: Decimal | str) -> bool:
        value = Decimal(str(annual_rate))
        return self.apr_min <= value <= self.apr_max

    def format_terms(self) -> str:
        """``"3/6/9/12/24/36 个月"``."""
        return "/".join(str(t) for t in self.terms) + " 个月"

    def format_amount_range(self) -> str:
        """``"1,000–200,000 元"``."""
        return f"{self.amount_min:,.0f}–{self.amount_max:,.0f} 元"


@dataclass(frozen=True)
class Stage:
    """An application stage with plain-language guidance."""

    code: str
    name: str
    plain: str
    next_step: str
    expected_time: str
    cancellable: bool
    final: bool


@dataclass(frozen=True)
class Sla:
    """Service level for one ticket kind: first reply within ``reply_hours``."""

    kind: str
    name: str
    reply_hours: int
    note: str
    resolve_days: int | None = None


@dataclass(frozen=True)
class OverdueRules:
    grace_days: int
    penalty_multiplier: Decimal
    penalty_apr_max: Decimal
    credit_report_after_days: int
    rules: tuple[str, ...]
    advice: str
    collection_rules: tuple[str, ...]

    def penalty_apr(self, contract_apr: Decimal | str) -> Decimal:
        """Annualised penalty rate on overdue principal: contract APR x multiplier, capped."""
        return min(Decimal(str(contract_apr)) * self.penalty_multiplier, self.penalty_apr_max)

    def in_grace(self, days_overdue: int) -> bool:
        return days_overdue <= self.grace_days

    def reported(self, days_overdue: int) -> bool:
        """Whether an arrear this many days old is reported to the credit reference centre."""
        return days_overdue > self.credit_report_after_days


@dataclass(frozen=True)
class PrepaymentInfo:
    interest_rule: str
    partial_rule: str
    how_to: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class LimitsInfo:
    assessed_by: str
    how_to_check: str
    validity_months: int
    revolving_note: str
    increase: str
    decrease: str
    frozen: str


@dataclass(frozen=True)
class Eligibility:
    conditions: tuple[str, ...]
    materials: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class RepaymentRules:
    due_day_rule: str
    auto_debit: str
    channels: tuple[str, ...]
    change_due_day: str
    holiday_rule: str
    notes: str


@dataclass(frozen=True)
class SettlementCertificateProcess:
    conditions: tuple[str, ...]
    steps: tuple[str, ...]
    delivery: str
    fee: str
    sla_kind: str


@dataclass(frozen=True)
class AccountProcedure:
    code: str
    name: str
    requirements: tuple[str, ...]
    steps: tuple[str, ...]
    sla_kind: str


@dataclass(frozen=True)
class DemoLoan:
    """The loan context used by the demo data (seed): product, fixed rate and method."""

    product: str
    annual_rate: Decimal
    rate_type: str
    method: str


@dataclass(frozen=True)
class Catalogue:
    version: int
    company: str
    legal_cap_apr: Decimal
    legal_cap_note: str
    rate_basis_note: str
    hotline: Hotline
    repayment_methods: tuple[RepaymentMethod, ...]
    products: tuple[Product, ...]
    prepayment: PrepaymentInfo
    stages: tuple[Stage, ...]
    slas: tuple[Sla, ...]
    overdue: OverdueRules
    limits: LimitsInfo
    eligibility: Eligibility
    repayment: RepaymentRules
    settlement_certificate: SettlementCertificateProcess
    account_services: tuple[AccountProcedure, ...]
    demo_loan: DemoLoan

    @property
    def product_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.products)

    def product(self, code: str) -> Product:
        """The product with this code; :class:`UnknownProductError` (a ``KeyError``) otherwise."""
        for p in self.products:
            if p.code == code:
                return p
        raise UnknownProductError(f"未知产品代码 {code!r}；可用: {', '.join(self.product_codes)}")

    def find_product(self, text: str) -> Product | None:
        """The product whose code, name or alias occurs in ``text`` (longest match wins)."""
        if not text:
            return None
        haystack = re.sub(r"\s+", "", text)
        lowered = haystack.lower()
        best: tuple[int, int, Product] | None = None
        for p in self.products:
            for candidate in (*p.names, p.code):
                pos = lowered.find(candidate.lower())
                if pos < 0:
                    continue
                key = (len(candidate), -pos)
                if best is None or key > best[:2]:
                    best = (key[0], key[1], p)
        return best[2] if best else None

    def method(self, code: str) -> RepaymentMethod:
        for m in self.repayment_methods:
            if m.code == code:
                return m
        raise KeyError(f"未知还款方式 {code!r}")

    def method_name(self, code: str) -> str:
        """``"equal_installment"`` -> ``"等额本息"``."""
        return self.method(code).name

    def stage(self, code: str) -> Stage:
        for s in self.stages:
            if s.code == code:
                return s
        raise KeyError(f"未知申请阶段 {code!r}")

    def find_stage(self, name_or_code: str) -> Stage | None:
        """A stage by code or Chinese name (``"审批中"``)."""
        for s in self.stages:
            if name_or_code in (s.code, s.name):
                return s
        return None

    def sla(self, kind: str) -> Sla:
        for s in self.slas:
            if s.kind == kind:
                return s
        raise KeyError(f"未知工单类型 {kind!r}；可用: {', '.join(s.kind for s in self.slas)}")

    def sla_hours(self, kind: str) -> int:
        return self.sla(kind).reply_hours

    def account_service(self, code: str) -> AccountProcedure:
        for a in self.account_services:
            if a.code == code:
                return a
        raise KeyError(f"未知账户服务 {code!r}")


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def format_percent(rate: Decimal | str | float, places: int = 2) -> str:
    """``Decimal("0.072")`` -> ``"7.2%"``; at most ``places`` decimals, no trailing zeros."""
    value = (Decimal(str(rate)) * 100).quantize(Decimal(1).scaleb(-places))
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def format_apr_range(product: Product) -> str:
    """The one wording for a product's rate range: ``"年化利率(单利) 7.2%–23.9%"``."""
    return f"年化利率(单利) {format_percent(product.apr_min)}–{format_percent(product.apr_max)}"


def format_apr(rate: Decimal | str) -> str:
    """A single rate in the same wording: ``"年化利率(单利) 12%"``."""
    return f"年化利率(单利) {format_percent(rate)}"


# ---------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue; ``None`` -> the packaged ``catalogue.yml`` (cached)."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Catalogue:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"无法读取产品目录 {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"产品目录 {path} 不是合法的 YAML: {exc}") from exc
    return parse_catalogue(raw, source=str(path))


def parse_catalogue(raw: Any, source: str = "<catalogue>") -> Catalogue:
    """Validate an already-parsed YAML mapping and build a :class:`Catalogue`."""
    p = _Parser(source)
    root = p.mapping(raw, "catalogue")

    cap = p.rate(root, "legal_cap_apr", "catalogue")
    if cap <= 0:
        p.fail("legal_cap_apr 必须大于 0")

    methods_raw = p.mapping(p.req(root, "repayment_methods", "catalogue"), "repayment_methods")
    methods: list[RepaymentMethod] = []
    for code, body in methods_raw.items():
        where = f"repayment_methods.{code}"
        if code not in SUPPORTED_METHODS:
            p.fail(
                f"{where}: 未知还款方式 {code!r}，计算器只支持 {', '.join(SUPPORTED_METHODS)}"
            )
        body = p.mapping(body, where)
        methods.append(
            RepaymentMethod(code=code, name=p.text(body, "name", where),
                            description=p.text(body, "description", where))
        )
    method_codes = {m.code for m in methods}

    products_raw = p.mapping(p.req(root, "products", "catalogue"), "products")
    if not products_raw:
        p.fail("products: 至少需要一个产品")
    products = tuple(
        _parse_product(p, code, body, cap, method_codes) for code, body in products_raw.items()
    )
    seen: dict[str, str] = {}
    for prod in products:
        for name in (*prod.names, prod.code):
            other = seen.get(name.lower())
            if other is not None and other != prod.code:
                p.fail(f"名称或别名 {name!r} 同时属于产品 {other} 和 {prod.code}")
            seen[name.lower()] = prod.code

    prep = p.mapping(p.req(root, "prepayment", "catalogue"), "prepayment")
    prepayment = PrepaymentInfo(
        interest_rule=p.text(prep, "interest_rule", "prepayment"),
        partial_rule=p.text(prep, "partial_rule", "prepayment"),
        how_to=p.texts(prep, "how_to", "prepayment"),
        note=p.text(prep, "note", "prepayment"),
    )

    stages_raw = p.mapping(p.req(root, "stages", "catalogue"), "stages")
    stages = []
    for code, body in stages_raw.items():
        where = f"stages.{code}"
        body = p.mapping(body, where)
        stages.append(Stage(
            code=p.code(code, where),
            name=p.text(body, "name", where),
            plain=p.text(body, "plain", where),
            next_step=p.text(body, "next_step", where),
            expected_time=p.text(body, "expected_time", where),
            cancellable=p.boolean(body, "cancellable", where),
            final=p.boolean(body, "final", where),
        ))
    missing = [s for s in REQUIRED_STAGES if s not in stages_raw]
    if missing:
        p.fail(f"stages: 缺少必需的申请阶段 {', '.join(missing)}")

    slas_raw = p.mapping(p.req(root, "slas", "catalogue"), "slas")
    slas = []
    for kind, body in slas_raw.items():
        where = f"slas.{kind}"
        body = p.mapping(body, where)
        hours = p.integer(body, "reply_hours", where)
        if hours <= 0:
            p.fail(f"{where}.reply_hours 必须大于 0")
        resolve = p.integer(body, "resolve_days", where) if "resolve_days" in body else None
        slas.append(Sla(kind=p.code(kind, where), name=p.text(body, "name", where),
                        reply_hours=hours, note=p.text(body, "note", where),
                        resolve_days=resolve))
    missing = [s for s in REQUIRED_SLAS if s not in slas_raw]
    if missing:
        p.fail(f"slas: 缺少必需的工单类型 {', '.join(missing)}")
    sla_kinds = {s.kind for s in slas}

    od = p.mapping(p.req(root, "overdue", "catalogue"), "overdue")
    overdue = OverdueRules(
        grace_days=p.integer(od, "grace_days", "overdue"),
        penalty_multiplier=p.decimal(od, "penalty_multiplier", "overdue"),
        penalty_apr_max=p.rate(od, "penalty_apr_max", "overdue"),
        credit_report_after_days=p.integer(od, "credit_report_after_days", "overdue"),
        rules=p.texts(od, "rules", "overdue"),
        advice=p.text(od, "advice", "overdue"),
        collection_rules=p.texts(od, "collection_rules", "overdue"),
    )
    if overdue.grace_days < 0 or overdue.credit_report_after_days < 0:
        p.fail("overdue: grace_days 和 credit_report_after_days 不能为负数")
    if overdue.penalty_multiplier <= 0:
        p.fail("overdue.penalty_multiplier 必须大于 0")
    if overdue.penalty_apr_max > cap:
        p.fail(
            f"overdue.penalty_apr_max {format_percent(overdue.penalty_apr_max)} "
            f"超过法定上限 legal_cap_apr {format_percent(cap)}"
        )

    lim = p.mapping(p.req(root, "limits", "catalogue"), "limits")
    limits = LimitsInfo(
        assessed_by=p.text(lim, "assessed_by", "limits"),
        how_to_check=p.text(lim, "how_to_check", "limits"),
        validity_months=p.integer(lim, "validity_months", "limits"),
        revolving_note=p.text(lim, "revolving_note", "limits"),
        increase=p.text(lim, "increase", "limits"),
        decrease=p.text(lim, "decrease", "limits"),
        frozen=p.text(lim, "frozen", "limits"),
    )

    el = p.mapping(p.req(root, "eligibility", "catalogue"), "eligibility")
    eligibility = Eligibility(
        conditions=p.texts(el, "conditions", "eligibility"),
        materials=p.texts(el, "materials", "eligibility"),
        notes=p.text(el, "notes", "eligibility"),
    )

    rp = p.mapping(p.req(root, "repayment", "catalogue"), "repayment")
    repayment = RepaymentRules(
        due_day_rule=p.text(rp, "due_day_rule", "repayment"),
        auto_debit=p.text(rp, "auto_debit", "repayment"),
        channels=p.texts(rp, "channels", "repayment"),
        change_due_day=p.text(rp, "change_due_day", "repayment"),
        holiday_rule=p.text(rp, "holiday_rule", "repayment"),
        notes=p.text(rp, "notes", "repayment"),
    )

    sc = p.mapping(p.req(root, "settlement_certificate", "catalogue"), "settlement_certificate")
    certificate = SettlementCertificateProcess(
        conditions=p.texts(sc, "conditions", "settlement_certificate"),
        steps=p.texts(sc, "steps", "settlement_certificate"),
        delivery=p.text(sc, "delivery", "settlement_certificate"),
        fee=p.text(sc, "fee", "settlement_certificate"),
        sla_kind=p.sla_kind(sc, "sla_kind", "settlement_certificate", sla_kinds),
    )

    acc = p.mapping(p.req(root, "account_services", "catalogue"), "account_services")
    account_services = []
    for code, body in acc.items():
        where = f"account_services.{code}"
        body = p.mapping(body, where)
        account_services.append(AccountProcedure(
            code=p.code(code, where),
            name=p.text(body, "name", where),
            requirements=p.texts(body, "requirements", where),
            steps=p.texts(body, "steps", where),
            sla_kind=p.sla_kind(body, "sla_kind", where, sla_kinds),
        ))

    hl = p.mapping(p.req(root, "hotline", "catalogue"), "hotline")
    hotline = Hotline(
        number=p.text(hl, "number", "hotline"),
        hours=p.text(hl, "hours", "hotline"),
        online=p.text(hl, "online", "hotline"),
        note=p.text(hl, "note", "hotline"),
    )
    if not re.fullmatch(r"400-\d{3}-\d{4}", hotline.number):
        p.fail(f"hotline.number {hotline.number!r} 应为 400-xxx-xxxx 格式")

    dl = p.mapping(p.req(root, "demo_loan", "catalogue"), "demo_loan")
    demo = DemoLoan(
        product=p.text(dl, "product", "demo_loan"),
        annual_rate=p.rate(dl, "annual_rate", "demo_loan"),
        rate_type=p.text(dl, "rate_type", "demo_loan"),
        method=p.text(dl, "method", "demo_loan"),
    )
    by_code = {prod.code: prod for prod in products}
    demo_product = by_code.get(demo.product)
    if demo_product is None:
        p.fail(f"demo_loan.product: 未知产品 {demo.product!r}")
    elif not demo_product.rate_in_range(demo.annual_rate):
        p.fail(
            f"demo_loan.annual_rate {format_percent(demo.annual_rate)} 不在产品 {demo.product} "
            f"的区间 {format_apr_range(demo_product)} 内"
        )
    elif not demo_product.supports_method(demo.method):
        p.fail(f"demo_loan.method {demo.method!r} 不是产品 {demo.product} 支持的还款方式")

    version = p.integer(root, "version", "catalogue")
    return Catalogue(
        version=version,
        company=p.text(root, "company", "catalogue"),
        legal_cap_apr=cap,
        legal_cap_note=p.text(root, "legal_cap_note", "catalogue"),
        rate_basis_note=p.text(root, "rate_basis_note", "catalogue"),
        hotline=hotline,
        repayment_methods=tuple(methods),
        products=products,
        prepayment=prepayment,
        stages=tuple(stages),
        slas=tuple(slas),
        overdue=overdue,
        limits=limits,
        eligibility=eligibility,
        repayment=repayment,
        settlement_certificate=certificate,
        account_services=tuple(account_services),
        demo_loan=demo,
    )


def _parse_product(
    p: _Parser, code: Any, body: Any, cap: Decimal, method_codes: set[str]
) -> Product:
    where = f"products.{code}"
    code = p.code(code, where)
    body = p.mapping(body, where)

    apr_min = p.rate(body, "apr_min", where)
    apr_max = p.rate(body, "apr_max", where)
    if apr_min <= 0:
        p.fail(f"{where}: apr_min 必须大于 0")
    if apr_min > apr_max:
        p.fail(
            f"{where}: apr_min {format_percent(apr_min)} 大于 apr_max {format_percent(apr_max)}"
        )
    if apr_max > cap:
        p.fail(
            f"{where}: apr_max {format_percent(apr_max)} 超过法定上限 legal_cap_apr "
            f"{format_percent(cap)}（司法保护上限，年化利率(单利)含全部费用不得超过）"
        )

    terms_raw = p.req(body, "terms", where)
    if not isinstance(terms_raw, list) or not terms_raw:
        p.fail(f"{where}: terms 不能为空，应为期数（月）列表")
    terms: list[int] = []
    for t in terms_raw:
        if isinstance(t, bool) or not isinstance(t, int) or t <= 0:
            p.fail(f"{where}: terms 中的 {t!r} 不是正整数月数")
        terms.append(t)
    if len(set(terms)) != len(terms):
        p.fail(f"{where}: terms 有重复期数")
    terms.sort()

    methods_raw = p.req(body, "repayment_methods", where)
    if not isinstance(methods_raw, list) or not methods_raw:
        p.fail(f"{where}: repayment_methods 不能为空")
    for m in methods_raw:
        if m not in method_codes:
            p.fail(
                f"{where}: 未知还款方式 {m!r}；已定义: {', '.join(sorted(method_codes))}"
            )

    amount_min = p.decimal(body, "amount_min", where)
    amount_max = p.decimal(body, "amount_max", where)
    amount_step = p.decimal(body, "amount_step", where)
    if amount_min <= 0 or amount_min > amount_max:
        p.fail(f"{where}: 金额区间无效 amount_min={amount_min} amount_max={amount_max}")
    if amount_step <= 0:
        p.fail(f"{where}: amount_step 必须大于 0")

    prep = p.mapping(p.req(body, "prepayment", where), f"{where}.prepayment")
    fee_rate = p.decimal(prep, "fee_rate", f"{where}.prepayment")
    if not Decimal(0) <= fee_rate < Decimal(1):
        p.fail(f"{where}.prepayment.fee_rate 应在 0 到 1 之间")
    free_periods = (p.integer(prep, "free_after_periods", f"{where}.prepayment")
                    if "free_after_periods" in prep else None)
    free_months = (p.integer(prep, "free_after_months", f"{where}.prepayment")
                   if "free_after_months" in prep else None)
    rule = PrepaymentRule(
        fee_rate=fee_rate,
        description=p.text(prep, "description", f"{where}.prepayment"),
        free_after_periods=free_periods,
        free_after_months=free_months,
    )

    aliases = p.texts(body, "aliases", where, allow_empty=True) if "aliases" in body else ()
    return Product(
        code=code,
        name=p.text(body, "name", where),
        aliases=aliases,
        category=p.text(body, "category", where),
        description=p.text(body, "description", where),
        secured=p.boolean(body, "secured", where),
        revolving=p.boolean(body, "revolving", where),
        amount_min=amount_min,
        amount_max=amount_max,
        amount_step=amount_step,
        terms=tuple(terms),
        repayment_methods=tuple(methods_raw),
        apr_min=apr_min,
        apr_max=apr_max,
        prepayment=rule,
        disbursement=p.text(body, "disbursement", where),
        eligibility=p.texts(body, "eligibility", where, allow_empty=True)
        if "eligibility" in body else (),
        materials=p.texts(body, "materials", where, allow_empty=True)
        if "materials" in body else (),
    )


class _Parser:
    """Small typed accessors that raise :class:`CatalogueError` naming the source and key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str) -> NoReturn:
        raise CatalogueError(f"产品目录 {self.source} 无效: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"{where} 应为映射 (mapping)")
        return value

    def req(self, body: dict[str, Any], key: str, where: str) -> Any:
        if key not in body or body[key] is None:
            self.fail(f"{where} 缺少 {key}")
        return body[key]

    def code(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _CODE_RE.match(value):
            self.fail(f"{where}: 代码 {value!r} 应为小写字母、数字和下划线")
        return value

    def text(self, body: dict[str, Any], key: str, where: str) -> str:
        value = self.req(body, key, where)
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
            self.fail(f"{where}.{key} 应为非空文本")
        return str(value).strip()

    def texts(
        self, body: dict[str, Any], key: str, where: str, allow_empty: bool = False
    ) -> tuple[str, ...]:
        value = body.get(key)
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list) or (not value and not allow_empty):
            self.fail(f"{where}.{key} 应为非空文本列表")
        out = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{where}.{key} 中有空的或非文本的条目: {item!r}")
            out.append(item.strip())
        return tuple(out)

    def decimal(self, body: dict[str, Any], key: str, where: str) -> Decimal:
        value = self.req(body, key, where)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail(f"{where}.{key} 应为数字")
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{where}.{key} 应为数字，实际为 {value!r}")
        if not result.is_finite():
            self.fail(f"{where}.{key} 应为有限数字")
        return result

    def rate(self, body: dict[str, Any], key: str, where: str) -> Decimal:
        value = self.decimal(body, key, where)
        if not Decimal(0) <= value < Decimal(1):
            self.fail(f"{where}.{key} 应为小数形式的年化利率（如 0.12 表示 12%），实际为 {value}")
        return value

    def integer(self, body: dict[str, Any], key: str, where: str) -> int:
        value = self.req(body, key, where)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key} 应为整数")
        return value

    def boolean(self, body: dict[str, Any], key: str, where: str) -> bool:
        value = self.req(body, key, where)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key} 应为 true/false")
        return value

    def sla_kind(self, body: dict[str, Any], key: str, where: str, kinds: set[str]) -> str:
        value = self.text(body, key, where)
        if value not in kinds:
            self.fail(f"{where}.{key}: 未定义的工单类型 {value!r}")
        return value
