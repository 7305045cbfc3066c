"""Issue 28: the full rules by SMS, on request — to the verified registered mobile only, after the identity
check, through the gateway (the development outbox, and Tencent Cloud's approved templates through its SDK
against ``harness.tencent_sms.TencentSmsStandIn``, a local server speaking its wire format, NOT Tencent), with
nothing personal in the message and the compliance checker over every text."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import select, update

from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.db.engine import get_engine, init_db, session_scope
from credit.db.loans import Application, Customer
from credit.db.outreach import ContactPoint
from credit.db.sms import RulesSms, SmsOutbox
from credit.errors import NotFound, NotVerified, RateLimited, ServiceUnavailable
from credit.rules_sms import DAILY_LIMIT, RULE_KINDS, RulesSmsSender, rules_text, sms_kind
from credit.seed import seed
from credit.service import LoanService
from credit.sms.common import SmsConfigError
from credit.sms.templates import load_sms_templates
from credit.sms.tencent import TencentSmsGateway, TencentSmsSettings
from credit.text.masking import find_pii
from harness.tencent_sms import TencentSmsStandIn

CAT = load_catalogue()
TEMPLATES = load_sms_templates()
APP, LAST4 = "SQ202611180002", "5678"
SENDER = "tel:CA-rules-sms"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def engine(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    seed(engine, reset=True)
    yield engine
    engine.dispose()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def svc(engine, clock) -> LoanService:
    return LoanService(engine, clock=clock)


def registered(engine, app_id: str = APP) -> str:
    with session_scope(engine) as s:
        return s.execute(select(Customer.phone).join(Application).where(Application.application_id == app_id)
                         ).scalar_one()


def outbox(engine):
    with session_scope(engine) as s:
        return [(r.phone, r.text) for r in s.execute(select(SmsOutbox).order_by(SmsOutbox.id)).scalars()]


# --- the texts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", RULE_KINDS)
def test_each_rules_text_is_the_registered_template_compliant_and_impersonal(kind: str) -> None:
    text = rules_text(kind)
    template = TEMPLATES[sms_kind(kind)]
    assert template.render([]) == text, "deploy/sms_templates.yml differs from the text form: register it again"
    assert template.params == () and "{" not in template.text  # no variables: nothing personal can go in
    assert check_text(text) == [] and find_pii(text) == []
    assert len(text) <= 500  # Tencent's limit for one template's text
    assert "？" not in text and "告诉我" not in text  # nothing that talks to a chat window
    assert CAT.hotline.number in text


def test_the_prepayment_rules_name_every_product_s_fee() -> None:
    text = rules_text("prepayment")
    for product in CAT.products:
        assert product.name in text and product.prepayment.description.rstrip("。") in text
    assert CAT.prepayment.interest_rule.strip().rstrip("。") in text


# --- who gets it --------------------------------------------------------------------------------
def test_nothing_is_sent_before_the_caller_is_verified(svc, engine) -> None:
    with pytest.raises(NotVerified):
        svc.send_rules_sms(SENDER, APP, "prepayment")
    assert outbox(engine) == []


def test_the_rules_go_to_the_verified_registered_mobile_only(svc, engine) -> None:
    assert svc.verify_identity(SENDER, APP, LAST4).status == "ok"
    sent = svc.send_rules_sms(SENDER, APP, "prepayment")
    phone = registered(engine)
    assert outbox(engine) == [(phone, rules_text("prepayment"))]
    assert sent.masked_phone == f"{phone[:3]}****{phone[-4:]}" and not sent.already
    with session_scope(engine) as s:
        row = s.execute(select(RulesSms)).scalar_one()
        assert (row.application_id, row.kind, row.sender_id, row.phone_masked) == (APP, "prepayment", SENDER,
                                                                                   sent.masked_phone)
        assert row.reference and row.reference.startswith("outbox:")


def test_another_conversation_s_verification_does_not_count(svc, engine) -> None:
    assert svc.verify_identity("tel:someone-else", APP, LAST4).status == "ok"
    with pytest.raises(NotVerified):
        svc.send_rules_sms(SENDER, APP, "prepayment")


def test_an_unverified_number_is_never_written_to(svc, engine) -> None:
    with session_scope(engine) as s:
        customer = s.execute(select(Application.customer_id).where(Application.application_id == APP)).scalar_one()
        s.execute(update(ContactPoint).where(ContactPoint.customer_id == customer, ContactPoint.channel == "sms")
                  .values(verified=False))
    svc.verify_identity(SENDER, APP, LAST4)
    with pytest.raises(NotFound):
        svc.send_rules_sms(SENDER, APP, "overdue")
    assert outbox(engine) == []


def test_the_same_rules_once_a_day_and_a_daily_limit(svc, engine, clock) -> None:
    svc.verify_identity(SENDER, APP, LAST4)
    assert not svc.send_rules_sms(SENDER, APP, "fees").already
    assert svc.send_rules_sms(SENDER, APP, "fees").already  # not sent twice
    others = [k for k in RULE_KINDS if k != "fees"]
    for kind in others[:DAILY_LIMIT - 1]:
        svc.send_rules_sms(SENDER, APP, kind)
    assert len(outbox(engine)) == DAILY_LIMIT
    with pytest.raises(RateLimited):
        svc.send_rules_sms(SENDER, APP, others[DAILY_LIMIT - 1])
    clock.now += timedelta(hours=25)
    svc.verify_identity(SENDER, APP, LAST4)
    assert not svc.send_rules_sms(SENDER, APP, "fees").already


def test_unknown_kinds_are_refused(svc) -> None:
    svc.verify_identity(SENDER, APP, LAST4)
    with pytest.raises(NotFound):
        svc.send_rules_sms(SENDER, APP, "progress")  # a personal answer never goes by SMS


class FailingGateway:
    def send(self, *args, **kwargs):
        raise RuntimeError("vendor down")


def test_a_gateway_failure_is_said_and_leaves_no_record(engine, clock) -> None:
    svc = LoanService(engine, clock=clock, sms=FailingGateway())
    svc.verify_identity(SENDER, APP, LAST4)
    with pytest.raises(ServiceUnavailable):
        svc.send_rules_sms(SENDER, APP, "repayment")
    with session_scope(engine) as s:
        assert s.execute(select(RulesSms)).first() is None


# --- Tencent Cloud: the approved template, no variables -------------------------------------------
@pytest.fixture()
def stand_in() -> Iterator[TencentSmsStandIn]:
    server = TencentSmsStandIn({spec.template_id: len(spec.params) for spec in TEMPLATES.values()},
                               code_templates={TEMPLATES["otp"].template_id}, sign_name="安信消费金融")
    server.start()
    yield server
    server.stop()


def tencent(stand_in: TencentSmsStandIn, templates=TEMPLATES) -> TencentSmsGateway:
    env = {"TENCENT_SMS_SECRET_ID": stand_in.secret_id, "TENCENT_SMS_SECRET_KEY": stand_in.secret_key,
           "TENCENT_SMS_SDK_APP_ID": stand_in.sdk_app_id, "TENCENT_SMS_SIGN_NAME": stand_in.sign_name,
           "TENCENT_SMS_ENDPOINT": stand_in.base_url}
    return TencentSmsGateway(TencentSmsSettings.from_env(env), templates)


def test_through_tencent_the_rules_are_their_approved_template_without_variables(engine, clock, stand_in) -> None:
    svc = LoanService(engine, clock=clock, sms=tencent(stand_in))
    svc.verify_identity(SENDER, APP, LAST4)
    sent = svc.send_rules_sms(SENDER, APP, "overdue")
    [message] = stand_in.messages_to("+86" + registered(engine))
    assert message["TemplateId"] == TEMPLATES["rules_overdue"].template_id and message["TemplateParamSet"] == []
    assert sent.reference and sent.reference.startswith("tencent:")


def test_a_template_file_without_the_rules_templates_stops_the_start(engine, stand_in) -> None:
    partial = {k: v for k, v in TEMPLATES.items() if not k.startswith("rules_")}
    with pytest.raises(SmsConfigError, match="rules_prepayment"):
        RulesSmsSender(LoanService(engine).store, LoanService(engine).verifier, tencent(stand_in, partial))
