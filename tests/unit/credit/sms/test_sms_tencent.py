"""Tencent Cloud SMS through its official SDK, against ``harness.tencent_sms.TencentSmsStandIn``.

The stand-in is NOT Tencent Cloud: it is a local server speaking the documented wire format of API 3.0
(TC3-HMAC-SHA256 signatures checked with the test's secret, SendSms and PullSmsSendStatusByPhoneNumber with
the vendor's rules: approved template IDs, exactly the template's variables, E.164 numbers).  The SDK, the
adapter, the outreach engine and the SQLite database are all real; nothing of ours is mocked.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Dict, Iterator

import pytest
from sqlalchemy import select, text

from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.db.engine import get_engine, session_scope
from credit.db.loans import Application, Customer
from credit.db.outreach import OutreachNotice
from credit.db.sms import SmsOutbox
from credit.db.tickets import Ticket, TicketOutcome
from credit.policy import CHINA_TZ
from credit.sms.common import SmsConfigError, SmsSendError, e164, mainland_mobile
from credit.sms.gateway import OutboxSmsGateway, UnknownSmsGateway, get_sms_gateway
from credit.sms.templates import OTP_KIND, SmsTemplate, load_sms_templates, missing_kinds
from credit.sms.tencent import TencentSmsGateway, TencentSmsSettings, required_sms_kinds, tencent_gateway_from_env
from harness.tencent_sms import TencentSmsStandIn
from outreach.channels import Delivery, DeliveryUnknown, SmsChannel
from outreach.engine import OutreachEngine
from outreach.facts import plan
from tests.seeded import SEEDED, Clock

CAT = load_catalogue()
TEMPLATES = load_sms_templates()
SIGN = "安信消费金融"  # a Tencent signature: 2-12 Chinese/English characters or digits, no brackets
OVERDUE = "SQ202609280007"  # its first instalment fell due 11-28 unpaid; the auto-debit failed that morning
FAILED_MORNING = datetime(2026, 11, 28, 9, 0, tzinfo=CHINA_TZ)



@pytest.fixture()
def clock() -> Clock:
    return Clock(FAILED_MORNING)


@pytest.fixture()
def stand_in(clock: Clock) -> Iterator[TencentSmsStandIn]:
    server = TencentSmsStandIn({spec.template_id: len(spec.params) for spec in TEMPLATES.values()},
                               code_templates={TEMPLATES[OTP_KIND].template_id}, sign_name=SIGN,
                               clock=lambda: clock.now.timestamp())
    server.start()
    yield server
    server.stop()


def env_for(stand_in: TencentSmsStandIn, **overrides: str) -> Dict[str, str]:
    return {"TENCENT_SMS_SECRET_ID": stand_in.secret_id, "TENCENT_SMS_SECRET_KEY": stand_in.secret_key,
            "TENCENT_SMS_SDK_APP_ID": stand_in.sdk_app_id, "TENCENT_SMS_SIGN_NAME": stand_in.sign_name,
            "TENCENT_SMS_ENDPOINT": stand_in.base_url, **overrides}


def gateway_for(stand_in: TencentSmsStandIn, templates: Dict[str, SmsTemplate] = TEMPLATES,
                **overrides: str) -> TencentSmsGateway:
    return TencentSmsGateway(TencentSmsSettings.from_env(env_for(stand_in, **overrides)), templates)



def phone_of(db, app_id: str) -> str:
    with session_scope(db) as s:
        return s.execute(select(Customer.phone).join(Application).where(Application.application_id == app_id)
                         ).scalar_one()


FIELDS = {"loan_tail": "0006", "due": "12月3日", "period": "1", "days": "1"}


# --- the adapter through the SDK -------------------------------------------------------------
def test_a_notice_goes_out_as_its_kinds_approved_template_in_e164_with_its_key(stand_in):
    ref = gateway_for(stand_in).send("13800003579", "（不会发出的文本）", kind="due_t1", fields=FIELDS,
                                     context="due_t1:SQ202610300006:p1")
    [message] = stand_in.sent
    assert ref == f"tencent:{message['SerialNo']}"
    assert message["PhoneNumber"] == "+8613800003579" and message["SignName"] == SIGN
    assert message["TemplateId"] == TEMPLATES["due_t1"].template_id
    assert message["TemplateParamSet"] == ["0006", "12月3日"]  # the template's variables, in order
    assert message["SessionContext"] == "due_t1:SQ202610300006:p1"
    assert stand_in.rejected == []


def test_the_verification_code_goes_out_as_the_otp_template(stand_in):
    gateway_for(stand_in).send("+86 138 0000 1234", "您的验证码为123456…", kind=OTP_KIND, fields={"code": "123456"})
    assert stand_in.sent[-1]["TemplateParamSet"] == ["123456"] and stand_in.sent[-1]["PhoneNumber"] == "+8613800001234"
    with pytest.raises(SmsSendError, match="TemplateParameterFormatError"):  # a code template takes 0-6 digits
        gateway_for(stand_in).send("13800001234", "", kind=OTP_KIND, fields={"code": "12ab"})


def test_the_identity_check_sends_its_code_through_the_vendors_otp_template(stand_in, db):
    from credit.service import LoanService

    service = LoanService(db, clock=lambda: SEEDED, sms=gateway_for(stand_in))
    assert service.verify_identity("rest:otp-test", "SQ202611180002", "5678").status == "ok"  # the code comes second
    sent = service.send_otp("rest:otp-test", "SQ202611180002")
    [message] = stand_in.sent
    assert message["TemplateId"] == TEMPLATES[OTP_KIND].template_id and message["PhoneNumber"] == "+8613800005678"
    [code] = message["TemplateParamSet"]
    assert len(code) == 6 and code.isdigit() and sent.masked_phone.endswith("5678")
    assert service.check_otp("rest:otp-test", "SQ202611180002", code) == "ok"


def test_the_vendor_refuses_a_variable_count_or_length_the_template_was_not_approved_with(stand_in):
    one_variable = dict(TEMPLATES, due_t1=SmsTemplate(template_id=TEMPLATES["due_t1"].template_id,
                                                      text="您尾号{1}的借款明天到期还款。", params=("loan_tail",)))
    with pytest.raises(SmsSendError) as refused:
        gateway_for(stand_in, one_variable).send("13800003579", "", kind="due_t1", fields=FIELDS)
    assert refused.value.code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    with pytest.raises(SmsSendError) as too_long:  # new accounts: at most 6 characters per variable
        gateway_for(stand_in).send("13800003579", "", kind="due_t1", fields={**FIELDS, "due": "2026年12月3日"})
    assert too_long.value.code == "InvalidParameterValue.TemplateParameterLengthLimit"
    with pytest.raises(SmsSendError, match="SignatureIncorrectOrUnapproved"):
        gateway_for(stand_in, TENCENT_SMS_SIGN_NAME="别家").send("13800003579", "", kind="due_t1", fields=FIELDS)
    assert stand_in.sent == []


def test_a_bad_secret_is_rejected_by_the_signature_check(stand_in):
    with pytest.raises(SmsSendError) as bad_key:
        gateway_for(stand_in, TENCENT_SMS_SECRET_KEY="not-the-secret").send("13800003579", "", kind="due_t1",
                                                                             fields=FIELDS)
    assert bad_key.value.code == "AuthFailure.SignatureFailure"
    with pytest.raises(SmsSendError) as bad_id:
        gateway_for(stand_in, TENCENT_SMS_SECRET_ID="AKIDnobody").send("13800003579", "", kind="due_t1",
                                                                        fields=FIELDS)
    assert bad_id.value.code == "AuthFailure.SecretIdNotFound"
    assert stand_in.sent == [] and [code for _, code in stand_in.rejected] == [
        "AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound"]


def test_a_send_without_a_kind_or_to_a_foreign_number_never_reaches_the_vendor(stand_in):
    gateway = gateway_for(stand_in)
    with pytest.raises(SmsSendError, match="TemplateNotConfigured"):  # Tencent sends templates only
        gateway.send("13800003579", "自由文本")
    with pytest.raises(SmsSendError, match="InvalidPhoneNumber"):
        gateway.send("+1 415 555 0100", "", kind="due_t1", fields=FIELDS)
    with pytest.raises(SmsSendError, match="MissingField"):
        gateway.send("13800003579", "", kind="due_t1", fields={"loan_tail": "0006"})
    assert stand_in.requests == 0


def test_reconciliation_finds_a_sent_message_by_its_key_and_not_an_unsent_one(stand_in, clock):
    gateway = gateway_for(stand_in)
    since = clock.now
    ref = gateway.send("13800003579", "", kind="due_t1", fields=FIELDS, context="due_t1:SQ202610300006:p1")
    clock.now += timedelta(minutes=6)
    assert gateway.find_sent("13800003579", "due_t1:SQ202610300006:p1", since, clock.now) == ref
    assert gateway.find_sent("13800003579", "due_t3:SQ202610300006:p1", since, clock.now) is None
    assert gateway.find_sent("13800001234", "due_t1:SQ202610300006:p1", since, clock.now) is None
    channel = SmsChannel(None, gateway)  # the engine asks the channel, the channel asks Tencent
    sent = Delivery(1, "due_t1:SQ202610300006:p1", "due_t1", FIELDS, "")
    assert channel.find("13800003579", sent, since, clock.now) == ref
    assert channel.find("13800003579", Delivery(2, "never-sent", "due_t1", FIELDS, ""), since, clock.now) is None


def test_without_session_context_in_the_status_rows_reconciliation_cannot_tell(stand_in, clock):
    stand_in.session_context_enabled = False  # Tencent returns it only once enabled for the account
    gateway = gateway_for(stand_in)
    since = clock.now
    gateway.send("13800003579", "", kind="due_t1", fields=FIELDS, context="due_t1:SQ202610300006:p1")
    with pytest.raises(DeliveryUnknown, match="SessionContext"):  # the engine gives up rather than resend
        SmsChannel(None, gateway).find("13800003579", Delivery(1, "due_t1:SQ202610300006:p1", "due_t1", FIELDS, ""),
                                       since, clock.now + timedelta(minutes=6))


# --- the outreach engine end to end --------------------------------------------------------------
def _failed_this_morning(db) -> None:
    with session_scope(db) as s:  # the seeded failure is at 06:00 on the due day
        s.execute(text("UPDATE repayment_records SET at = :at WHERE result = 'failed'"),
                  {"at": datetime(2026, 11, 28, 6, 0, tzinfo=CHINA_TZ).astimezone(timezone.utc).replace(tzinfo=None)})


def _notices(db) -> Dict[str, OutreachNotice]:
    with session_scope(db) as s:
        return {n.key: n for n in s.execute(select(OutreachNotice)).scalars()}


def test_the_engine_sends_the_deduction_failed_notice_once_through_tencent(db, stand_in, clock):
    _failed_this_morning(db)
    channels = {"sms": SmsChannel(db, gateway_for(stand_in))}
    report = OutreachEngine(db, CAT, channels, clock, worker="w1").sweep()
    [key] = [k for k in report.sent if k.startswith(f"deduction_failed:{OVERDUE}")]
    [message] = [m for m in stand_in.messages_to(e164(phone_of(db, OVERDUE))) if m["SessionContext"] == key]
    assert message["TemplateId"] == TEMPLATES["deduction_failed"].template_id
    assert message["TemplateParamSet"] == [OVERDUE[-4:]]
    assert _notices(db)[key].vendor_ref == f"tencent:{message['SerialNo']}"
    sent_before = len(stand_in.sent)
    clock.now += timedelta(minutes=5)
    assert OutreachEngine(db, CAT, channels, clock, worker="w1").sweep().sent == []  # a second sweep: nothing
    assert len(stand_in.sent) == sent_before
    with session_scope(db) as s:
        assert s.execute(select(SmsOutbox)).first() is None  # the outbox is not the gateway here


def test_a_crash_after_tencent_accepted_is_reconciled_by_session_context_not_resent(db, stand_in, clock):
    _failed_this_morning(db)
    gateway = gateway_for(stand_in)

    class CrashAfterSend(SmsChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            SmsChannel(db, gateway).send(address, delivery)  # Tencent has it ...
            raise KeyboardInterrupt  # ... and the engine dies before writing it down

    with pytest.raises(KeyboardInterrupt):
        OutreachEngine(db, CAT, {"sms": CrashAfterSend(db, gateway)}, clock, worker="w1").sweep()
    [crashed] = [k for k, n in _notices(db).items() if n.status == "sending"]
    clock.now += timedelta(minutes=CAT.outreach.lease_minutes + 1)
    later = OutreachEngine(db, CAT, {"sms": SmsChannel(db, gateway)}, clock, worker="w2").sweep()
    assert later.reconciled == [crashed] and crashed not in later.sent
    [message] = [m for m in stand_in.sent if m["SessionContext"] == crashed]  # sent once, not twice
    assert _notices(db)[crashed].vendor_ref == f"tencent:{message['SerialNo']}"


def test_a_crash_before_tencent_got_it_is_not_found_and_is_sent_once(db, stand_in, clock):
    _failed_this_morning(db)
    gateway = gateway_for(stand_in)

    class CrashBeforeSend(SmsChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        OutreachEngine(db, CAT, {"sms": CrashBeforeSend(db, gateway)}, clock, worker="w1").sweep()
    [crashed] = [k for k, n in _notices(db).items() if n.status == "sending"]
    clock.now += timedelta(minutes=CAT.outreach.lease_minutes + 1)
    engine = OutreachEngine(db, CAT, {"sms": SmsChannel(db, gateway)}, clock, worker="w2")
    report = engine.sweep()
    assert crashed not in report.reconciled and crashed in report.sent  # Tencent had none: retried, sent
    assert len([m for m in stand_in.sent if m["SessionContext"] == crashed]) == 1


# --- configuration ---------------------------------------------------------------------------
TENCENT_VARIABLES = ("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID",
                     "TENCENT_SMS_SIGN_NAME", "TENCENT_SMS_REGION", "TENCENT_SMS_ENDPOINT", "SMS_TEMPLATES")


def test_selecting_tencent_without_its_secrets_stops_with_a_clear_bilingual_error(monkeypatch, tmp_path):
    for name in TENCENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMS_GATEWAY", "tencent")
    with pytest.raises(SmsConfigError) as error:
        get_sms_gateway()
    message = str(error.value)
    assert "TENCENT_SMS_SECRET_ID" in message and "TENCENT_SMS_SECRET_KEY" in message
    assert "需要设置" in message and "needs" in message
    monkeypatch.delenv("SMS_GATEWAY")
    assert isinstance(get_sms_gateway(get_engine(f"sqlite:///{tmp_path / 'x.db'}")), OutboxSmsGateway)  # default
    with pytest.raises(UnknownSmsGateway, match="outbox, tencent"):
        get_sms_gateway(name="aliyun")


def test_settings_read_the_endpoint_scheme_region_and_refuse_nonsense():
    base = {"TENCENT_SMS_SECRET_ID": "AKID1", "TENCENT_SMS_SECRET_KEY": "k", "TENCENT_SMS_SDK_APP_ID": "1400006666",
            "TENCENT_SMS_SIGN_NAME": SIGN}
    default = TencentSmsSettings.from_env(base)
    assert (default.scheme, default.endpoint, default.region) == ("https", "sms.tencentcloudapi.com", "ap-guangzhou")
    local = TencentSmsSettings.from_env({**base, "TENCENT_SMS_ENDPOINT": "http://127.0.0.1:8123",
                                         "TENCENT_SMS_REGION": "ap-beijing"})
    assert (local.scheme, local.endpoint, local.region) == ("http", "127.0.0.1:8123", "ap-beijing")
    with pytest.raises(SmsConfigError, match="TENCENT_SMS_SDK_APP_ID"):
        TencentSmsSettings.from_env({**base, "TENCENT_SMS_SDK_APP_ID": "my-app"})
    with pytest.raises(SmsConfigError, match="TENCENT_SMS_ENDPOINT"):
        TencentSmsSettings.from_env({**base, "TENCENT_SMS_ENDPOINT": "ftp://x/y"})


def test_the_gateway_from_the_environment_reads_the_template_file_sms_templates_names(stand_in, tmp_path):
    assert isinstance(tencent_gateway_from_env(env_for(stand_in)), TencentSmsGateway)
    partial = tmp_path / "partial.yml"
    partial.write_text('otp: {template_id: "1", text: "验证码{1}", params: [code]}\n', "utf-8")
    with pytest.raises(SmsConfigError, match="缺少.*deduction_failed"):
        tencent_gateway_from_env(env_for(stand_in, SMS_TEMPLATES=str(partial)))


@pytest.mark.parametrize("body,problem", [
    ('due_t1: {template_id: "1", text: "尾号{1}", params: [salary]}', "salary"),
    ('due_t1: {template_id: "1", text: "尾号{1}明天{3}", params: [loan_tail, due]}', "不一一对应"),
    ('due_t1: {template_id: "1", text: "尾号{1}", params: []}', "不一一对应"),
    ('due_t1: {template_id: "demo", text: "尾号{1}", params: [loan_tail]}', "数字"),
    ('due_t1: {template_id: "1", text: "尾号{1}", params: [loan_tail], extra: 1}', "extra"),
    ('due_t1: {template_id: "1", text: "尾号{1}", params: [loan_tail]}\n'
     'due_t3: {template_id: "1", text: "另一段{1}", params: [loan_tail]}', "两个不同|different"),
    ("- just a list", "映射"),
])
def test_the_template_file_is_validated(tmp_path, body, problem):
    path = tmp_path / "t.yml"
    path.write_text(body + "\n", "utf-8")
    with pytest.raises(SmsConfigError, match=problem):
        load_sms_templates(path)


def test_numbers_are_mainland_mobiles_written_in_e164():
    assert e164("13800001234") == e164("+86 138-0000-1234") == e164("008613800001234") == "+8613800001234"
    assert mainland_mobile("8613800001234") == "13800001234"
    for bad in ("4008208820", "+14155550100", "1380000123", ""):
        with pytest.raises(ValueError):
            e164(bad)


# --- the template file against the notices' real fields ------------------------------------------
def _fields_by_kind(db) -> Dict[str, Dict[str, str]]:
    """Each notice kind's fields as the engine plans them from the seeded database (a ticket added)."""
    with session_scope(db) as s:
        s.add(Ticket(number="TK202612010001", kind="complaint", sender_id="rest:t", application_id=OVERDUE,
                     status="open", sla_hours=48, due_at=SEEDED + timedelta(hours=3), created_at=SEEDED))
        closed = Ticket(number="TK202612010002", kind="complaint", sender_id="rest:t", application_id=OVERDUE,
                        status="closed", sla_hours=48, due_at=SEEDED + timedelta(hours=3), created_at=SEEDED)
        s.add(closed)
        s.flush()
        s.add(TicketOutcome(ticket_id=closed.id, closed_at=SEEDED, closed_by="ops", resolution="已处理"))
    found: Dict[str, Dict[str, str]] = {}
    for day in range(-5, 30):
        with session_scope(db) as s:
            for item in plan(s, CAT, SEEDED + timedelta(days=day)):
                found.setdefault(item.kind, item.fields)
    return found


def test_every_template_is_filled_by_its_notices_fields_and_reads_compliantly(db):
    assert missing_kinds(TEMPLATES, required_sms_kinds()) == []
    fields = _fields_by_kind(db)
    assert set(fields) == {rule.kind for rule in CAT.outreach.notices}
    hotline = CAT.hotline.number
    for rule in CAT.outreach.notices:
        spec = TEMPLATES[rule.kind]
        values = spec.values(fields[rule.kind])
        assert all(0 < len(v) <= 6 for v in values), (rule.kind, values)  # new accounts: 6 characters a variable
        rendered = spec.render(values, SIGN)
        assert check_text(rendered) == [], rendered
        assert ("回复TD退订" in rendered) != rule.mandatory, rendered  # optional notices say how to stop them
        assert set(re.findall(r"\d{3}-\d{3}-\d{4}", rendered)) <= {hotline}  # the catalogue's hotline only
        if "ticket_tail" not in spec.params:  # the catalogue's SMS words (a ticket goes by its last digits)
            assert spec.render(values) == rule.sms.format(**fields[rule.kind]).split("】", 1)[1], rule.kind
    otp = TEMPLATES[OTP_KIND]
    assert otp.values({"code": "123456"}) == ["123456"]
    assert check_text(otp.render(["******"], SIGN)) == []  # a code itself is personal data to the checker


def test_the_approved_text_reads_as_the_customer_will_see_it():
    spec = TEMPLATES["due_t1"]
    assert spec.render(spec.values(FIELDS), SIGN) == (
        "【安信消费金融】您尾号0006的借款明天（12月3日）到期还款，请今天在绑定的银行卡存入足额资金，详情见APP。回复TD退订")
    assert TEMPLATES["ticket_due"].values({"ticket": "TK202612010001"}) == ["0001"]


def test_every_kind_the_engine_may_send_has_a_template() -> None:
    assert set(required_sms_kinds()) == {rule.kind for rule in CAT.outreach.notices} | {OTP_KIND}
    assert set(TEMPLATES) >= set(required_sms_kinds())
