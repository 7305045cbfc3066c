"""Loan service: the one object the actions call for anything stored in the database.

Framework-free; the action server calls it with the conversation's ``sender_id``.
It is a thin facade over the parts that do the work, each in its own module:

* :mod:`credit.verification` — ID checks with lockouts, SMS one-time codes, WeChat OpenID;
* :mod:`credit.wechat_identity` — the 微信客服 customer as the WeChat user (verified unionid binding);
* :mod:`credit.loans` — progress, loan details, cancellation, settlement certificate;
* :mod:`credit.tickets.records` — tickets, handoffs to a human queue, risk events;
* :mod:`credit.rules_sms` — the full rules of an answer by SMS, on request, to the verified registered mobile.

Every call is one transaction (:class:`credit.store.Store`).  Errors are in
:mod:`credit.errors`: :class:`InvalidInput`, :class:`NotVerified`, :class:`Locked` (and
its subclass :class:`RateLimited`), :class:`NotFound`, and :class:`ServiceUnavailable`
when the database cannot be reached, so the dialogue can apologise instead of crashing.
Results are the views of :mod:`credit.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from credit.db.base import utcnow
from credit.loans import Loans
from credit.rules_sms import RulesSmsSender, RulesSmsSent
from credit.sms.gateway import SmsGateway, get_sms_gateway
from credit.store import Store
from credit.tickets.records import Tickets
from credit.verification import Verifier
from credit.views import (
    CancelResult,
    HandoffView,
    LoanView,
    OtpCheck,
    OtpSent,
    ProgressView,
    RiskEventView,
    SettlementResult,
    TicketLookup,
    TicketView,
    VerifyResult,
)
from credit.wechat_identity import strong_by_kf


class LoanService:
    """All database-backed customer-service operations (one transaction per call)."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utcnow,
        sms: SmsGateway | None = None,
    ) -> None:
        self.store = Store(engine, clock)
        self.verifier = Verifier(self.store, sms if sms is not None else get_sms_gateway(engine))
        self.loans = Loans(self.store, self.verifier)
        self.tickets = Tickets(self.store)
        self.rules_sms = RulesSmsSender(self.store, self.verifier, self.verifier.sms)

    @property
    def engine(self) -> Engine:
        return self.store.engine

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.store.clock

    @property
    def sms(self) -> SmsGateway:
        return self.verifier.sms

    def now(self) -> datetime:
        return self.store.now()

    # ------------------------------------------------------------ verification

    def verify_identity(self, sender_id: Any, application_id: Any, id_last4: Any) -> VerifyResult:
        return self.verifier.verify_identity(sender_id, application_id, id_last4)

    def verify_by_tails(self, sender_id: Any, phone_last4: Any, id_last4: Any) -> tuple[VerifyResult, str | None]:
        return self.verifier.verify_by_tails(sender_id, phone_last4, id_last4)

    def is_verified(self, sender_id: Any, application_id: Any, level: str = "basic") -> bool:
        return self.verifier.is_verified(sender_id, application_id, level)

    def send_otp(self, sender_id: Any, application_id: Any) -> OtpSent:
        return self.verifier.send_otp(sender_id, application_id)

    def check_otp(self, sender_id: Any, application_id: Any, code: Any) -> OtpCheck:
        return self.verifier.check_otp(sender_id, application_id, code)

    def bind_wechat_openid(self, customer_id: int, openid: str) -> None:
        self.verifier.bind_wechat_openid(customer_id, openid)

    def strong_by_openid(self, sender_id: Any, openid: Any, application_id: Any) -> bool:
        return self.verifier.strong_by_openid(sender_id, openid, application_id)

    def strong_by_wecom_kf(self, sender_id: Any, external_userid: Any, application_id: Any) -> bool:
        """微信客服: strong when the kf customer's unionid is bound *verified* to the application's customer."""
        return strong_by_kf(self.verifier, sender_id, external_userid, application_id)

    # ------------------------------------------------------------------- loans

    def get_progress(self, sender_id: Any, application_id: Any) -> ProgressView:
        return self.loans.get_progress(sender_id, application_id)

    def get_loan_details(self, sender_id: Any, application_id: Any) -> LoanView:
        return self.loans.get_loan_details(sender_id, application_id)

    def request_cancel(self, sender_id: Any, application_id: Any) -> CancelResult:
        return self.loans.request_cancel(sender_id, application_id)

    def request_settlement_certificate(self, sender_id: Any, application_id: Any) -> SettlementResult:
        return self.loans.request_settlement_certificate(sender_id, application_id)

    # ------------------------------------------------------------- rules by SMS

    def registered_mobile(self, sender_id: Any, application_id: Any) -> str:
        return self.rules_sms.registered_mobile(sender_id, application_id)

    def send_rules_sms(self, sender_id: Any, application_id: Any, kind: str) -> RulesSmsSent:
        return self.rules_sms.send(sender_id, application_id, kind)

    # ----------------------------------------------------------------- tickets

    def create_ticket(
        self,
        sender_id: Any,
        kind: Any,
        detail: Any,
        contact: Any = None,
        category: Any = None,
        application_id: Any = None,
    ) -> TicketView:
        return self.tickets.create_ticket(sender_id, kind, detail, contact, category, application_id)

    def callbacks(self) -> list[tuple[TicketView, str]]:
        return self.tickets.callbacks()

    def list_tickets(self, sender_id: Any) -> list[TicketView]:
        return self.tickets.list_tickets(sender_id)

    def ticket_status(self, sender_id: Any, number: Any) -> TicketView | None:
        return self.tickets.ticket_status(sender_id, number)

    def verify_ticket(self, sender_id: Any, number: Any, check: Any) -> TicketLookup:
        return self.verifier.verify_ticket(sender_id, number, check)

    def ticket_after_check(self, sender_id: Any, number: Any) -> TicketView | None:
        return self.verifier.ticket_after_check(sender_id, number)

    def record_handoff(self, sender_id: Any, channel: Any, queue: Any, summary: Any) -> HandoffView:
        return self.tickets.record_handoff(sender_id, channel, queue, summary)

    def record_risk_event(self, sender_id: Any, kind: Any, text: Any) -> RiskEventView:
        return self.tickets.record_risk_event(sender_id, kind, text)
