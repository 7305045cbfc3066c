"""The outreach engine: plan each notice once, claim it once, deliver it within the rules, retry with
backoff, reconcile after a crash, and write every attempt to the audit trail.

All state is in the database, so any number of engines (servers, cron runs) may sweep at once:

* **plan** inserts a row per due notice under its unique key; a key already there is skipped;
* **claim** is a compare-and-set (``pending`` -> ``sending``) on one row; only one engine wins;
* a claimed row whose engine died is **reconciled** after the lease: the channel is asked whether it
  already has the message (then it is ``sent``, never sent twice), otherwise it is retried;
* a send the vendor did not answer (a timeout that may hide a success, :class:`DeliveryUnconfirmed`) is
  recorded ``unconfirmed`` and keeps its claim: it is reconciled the same way after the lease, never
  simply resent;
* every text passes the compliance checker before it leaves (the output guard's review: customer data is
  masked in place, anything else withheld; each interception recorded, ``credit.guard``).
"""
from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credit.catalogue.loader import Catalogue
from credit.compliance import check_text
from credit.db.engine import session_scope
from credit.db.loans import Customer
from credit.db.outreach import ContactPoint, OutreachAttempt, OutreachNotice
from credit.guard.records import Intercepted, record
from credit.guard.review import MASKED, review
from credit.text.masking import mask_pii
from outreach.channels import Channel, Delivery, DeliveryFailed, DeliveryUnconfirmed, DeliveryUnknown
from outreach.conversation import RasaConversations
from outreach.facts import Planned, plan
from outreach.rules import Decision, decide

logger = logging.getLogger(__name__)


def render(cat: Catalogue, kind: str, channel: Channel, fields: Dict[str, str]) -> str:
    rule = cat.outreach.rule(kind)
    template = rule.text if channel.private else rule.sms
    if channel.name == "phone":
        template = rule.voice or rule.sms
    return template.format(**fields)


@dataclass
class SweepReport:
    planned: int = 0
    sent: List[str] = field(default_factory=list)  # notice keys
    held: List[str] = field(default_factory=list)
    suppressed: List[str] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)
    reconciled: List[str] = field(default_factory=list)
    unconfirmed: List[str] = field(default_factory=list)  # sent without an answer: reconciled after the lease


class OutreachEngine:
    def __init__(self, engine: Engine, cat: Catalogue, channels: Dict[str, Channel],
                 clock: Callable[[], datetime], worker: Optional[str] = None,
                 conversations: Optional[RasaConversations] = None) -> None:
        self.engine = engine
        self.cat = cat
        self.channels = channels
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.conversations = conversations  # where a delivered notice is written into the conversation

    # ------------------------------------------------------------------ plan
    def plan(self, now: datetime) -> int:
        return len(self._plan(now)[1])

    def _plan(self, now: datetime) -> tuple[set, List[str]]:
        """(keys whose fact holds now, keys newly planned)."""
        with session_scope(self.engine) as session:
            planned = plan(session, self.cat, now)
        return {item.key for item in planned}, [item.key for item in planned if self._insert(item, now)]

    def _insert(self, item: Planned, now: datetime) -> bool:
        try:
            with session_scope(self.engine) as session:
                session.add(OutreachNotice(key=item.key, kind=item.kind, customer_id=item.customer_id,
                                           subject=item.subject, period=item.period, mandatory=item.mandatory,
                                           due_at=item.due_at, status="pending", created_at=now,
                                           fields=json.dumps(item.fields, ensure_ascii=False)))
            return True
        except IntegrityError:  # planned before, here or by another engine
            return False

    # ----------------------------------------------------------------- sweep
    def sweep(self) -> SweepReport:
        now = self.clock()
        report = SweepReport()
        report.reconciled = self.reconcile(now)
        holding, created = self._plan(now)
        report.planned = len(created)
        with session_scope(self.engine) as session:
            due = session.execute(select(OutreachNotice.id).where(
                OutreachNotice.status == "pending", OutreachNotice.due_at <= now,
                or_(OutreachNotice.next_attempt_at.is_(None), OutreachNotice.next_attempt_at <= now))
                .order_by(OutreachNotice.mandatory.desc(), OutreachNotice.due_at, OutreachNotice.id)).scalars().all()
        for notice_id in due:
            self._deliver(notice_id, now, report, holding)
        return report

    def _deliver(self, notice_id: int, now: datetime, report: SweepReport, holding: set) -> None:
        with session_scope(self.engine) as session:
            # The row stays locked while this engine decides: another engine skips it rather than hold or
            # suppress it over our claim (or write a second "held" for it).  SQLite: BEGIN IMMEDIATE does this.
            notice = session.execute(select(OutreachNotice).where(
                OutreachNotice.id == notice_id, OutreachNotice.status == "pending",
                or_(OutreachNotice.next_attempt_at.is_(None), OutreachNotice.next_attempt_at <= now))
                .with_for_update(skip_locked=True)).scalar_one_or_none()
            if notice is None:  # another engine got there first, has it in hand, or held it meanwhile
                return
            rule = self.cat.outreach.rule(notice.kind)
            if notice.key not in holding:
                # paid meanwhile, the day has passed, the ticket answered: the words would no longer be true
                decision = Decision("suppress", "通知依据的情况已变化（已还款、已过期或已处理），不再发送")
            else:
                if not notice.mandatory:  # one engine at a time decides for a customer (the daily cap)
                    session.execute(select(Customer.id).where(Customer.id == notice.customer_id)
                                    .with_for_update(key_share=True))
                decision = decide(session, self.cat.outreach, rule, notice, now, self.channels)
            if decision.action == "hold":
                notice.next_attempt_at = decision.until
                notice.reason = decision.reason
                self._audit(session, notice, now, None, "held", decision.reason)
                report.held.append(notice.key)
                return
            if decision.action == "suppress":
                notice.status, notice.reason = "suppressed", decision.reason
                self._audit(session, notice, now, None, "suppressed", decision.reason)
                report.suppressed.append(notice.key)
                return
            claimed = session.execute(
                update(OutreachNotice)
                .where(OutreachNotice.id == notice_id, OutreachNotice.status == "pending")
                .values(status="sending", claimed_by=self.worker, claimed_at=now, channel=decision.channel,
                        contact_point_id=decision.contact.id if decision.contact else None)
            ).rowcount
            if claimed != 1:  # another engine took it
                return
            key, kind, fields = notice.key, notice.kind, json.loads(notice.fields or "{}")
            address = decision.contact.address if decision.contact else ""
        channel = self.channels[decision.channel or ""]
        delivery = Delivery(notice_id, key, kind, fields, render(self.cat, kind, channel, fields))
        self._send(delivery, channel, address, now, report)

    def _send(self, delivery: Delivery, channel: Channel, address: str, now: datetime, report: SweepReport) -> None:
        delivery = self._reviewed(delivery, channel, now)
        notice_id, key, text = delivery.notice_id, delivery.key, delivery.text
        problems = check_text(text)
        try:
            if problems:
                raise DeliveryFailed("合规检查未通过：" + "；".join(p.rule for p in problems))
            ref = channel.send(address, delivery)
        except DeliveryUnknown as error:  # cannot tell whether it arrived: never risk sending it twice
            self._failed(notice_id, now, channel.name, str(error), final=True)
            report.failed.append(key)
            return
        except DeliveryUnconfirmed as error:  # it may have arrived: keep the claim, reconcile after the lease
            self._unconfirmed(notice_id, now, channel.name, str(error))
            report.unconfirmed.append(key)
            return
        except DeliveryFailed as error:
            self._failed(notice_id, now, channel.name, str(error), final=bool(problems))
            report.failed.append(key)
            return
        with session_scope(self.engine) as session:
            notice = self._still_mine(session, notice_id, now)
            if notice is None:  # reconciled by another engine meanwhile: it recorded the outcome
                return
            notice.status, notice.vendor_ref, notice.sent_at, notice.reason = "sent", ref, now, None
            notice.attempts += 1
            self._audit(session, notice, now, channel.name, "sent", mask_pii(text)[:300])
        report.sent.append(key)
        self._write_conversation(notice_id, channel.name, address, now)

    def _reviewed(self, delivery: Delivery, channel: Channel, now: datetime) -> Delivery:
        """The output guard's review (credit.guard.review, the one checker): customer data masked in place
        (text and template fields), anything else withheld (the check in ``_send`` refuses it); either way an
        interception is recorded for ops, like the dialogue's."""
        reviewed = review(delivery.text)
        if not reviewed.intercepted:
            return delivery
        decision = "masked" if reviewed.decision == MASKED else "withheld"
        record(self.engine, [Intercepted(
            sender_id=f"notice-{delivery.notice_id}", channel=channel.name, rules=reviewed.rules, decision=decision,
            text=reviewed.original, action=f"outreach:{delivery.kind}", response=delivery.kind)], now)
        if reviewed.decision != MASKED:
            return delivery
        return replace(delivery, text=reviewed.text or "",
                       fields={name: mask_pii(value) for name, value in delivery.fields.items()})

    def _write_conversation(self, notice_id: int, channel: str, address: str, now: datetime) -> None:
        """The delivered notice into the customer's conversation (outreach/conversation.py); its outcome in
        the audit trail.  Outside any transaction: Rasa's action server reads the notice meanwhile."""
        if self.conversations is None or self.conversations.conversation_id(channel, address) is None:
            return
        problem = self.conversations.write(channel, address, notice_id)
        with session_scope(self.engine) as session:
            notice = session.get(OutreachNotice, notice_id)
            if notice is not None:
                self._audit(session, notice, now, channel, "conversation", problem or "已写入客户对话")

    def _still_mine(self, session: Session, notice_id: int, claimed_at: datetime) -> Optional[OutreachNotice]:
        """The notice, if this engine's claim on it still stands (a reconciler may have taken it over)."""
        notice = session.execute(select(OutreachNotice).where(
            OutreachNotice.id == notice_id, OutreachNotice.status == "sending",
            OutreachNotice.claimed_by == self.worker, OutreachNotice.claimed_at == claimed_at)
            .with_for_update()).scalar_one_or_none()
        return notice

    def _unconfirmed(self, notice_id: int, now: datetime, channel: str, why: str) -> None:
        with session_scope(self.engine) as session:
            notice = self._still_mine(session, notice_id, now)
            if notice is not None:
                notice.attempts += 1
                notice.reason = why
                self._audit(session, notice, now, channel, "unconfirmed", why)

    def _failed(self, notice_id: int, now: datetime, channel: str, why: str, final: bool) -> None:
        rules = self.cat.outreach
        with session_scope(self.engine) as session:
            notice = self._still_mine(session, notice_id, now)
            if notice is None:
                return
            notice.attempts += 1
            if final or notice.attempts >= rules.max_attempts:
                notice.status, notice.reason = "given_up", why
                self._audit(session, notice, now, channel, "given_up", why)
                return
            backoff = rules.backoff_minutes[min(notice.attempts, len(rules.backoff_minutes)) - 1]
            notice.status, notice.reason = "pending", why
            notice.next_attempt_at = now + timedelta(minutes=backoff)
            self._audit(session, notice, now, channel, "failed", why)

    # ------------------------------------------------------------- reconcile
    def reconcile(self, now: datetime) -> List[str]:
        """Claims older than the lease: sent if the channel already has the message, else retried.
        The channel is asked outside any transaction (SQLite allows one writer at a time)."""
        lease = now - timedelta(minutes=self.cat.outreach.lease_minutes)
        with session_scope(self.engine) as session:
            stale = [(n.id, n.key, n.kind, n.channel, n.claimed_at, n.fields,
                      session.get(ContactPoint, n.contact_point_id).address if n.contact_point_id else None)
                     for n in session.execute(select(OutreachNotice).where(
                         OutreachNotice.status == "sending", OutreachNotice.claimed_at < lease)).scalars()]
        done: List[str] = []
        for notice_id, key, kind, channel_name, claimed_at, fields, address in stale:
            channel = self.channels.get(channel_name or "")
            ref = None
            unknown = False
            if channel is not None and address is not None:
                values = json.loads(fields or "{}")
                delivery = Delivery(notice_id, key, kind, values, render(self.cat, kind, channel, values))
                try:
                    ref = channel.find(address, delivery, claimed_at, now)
                except DeliveryUnknown:
                    unknown = True
                except Exception:  # noqa: BLE001 - the vendor's look-up is down: ask again next sweep
                    logger.exception("outreach: could not reconcile notice %s with %s", key, channel_name)
                    continue
            with session_scope(self.engine) as session:
                notice = session.execute(select(OutreachNotice).where(  # still the stale claim we looked at
                    OutreachNotice.id == notice_id, OutreachNotice.status == "sending",
                    OutreachNotice.claimed_at == claimed_at).with_for_update()).scalar_one_or_none()
                if notice is None:
                    continue
                if unknown:
                    notice.status, notice.reason = "given_up", "发送中断，渠道无法核实是否已送达；为避免重复，不再重发"
                    self._audit(session, notice, now, channel_name, "given_up", notice.reason)
                elif ref:
                    notice.status, notice.vendor_ref, notice.sent_at = "sent", ref, claimed_at
                    self._audit(session, notice, now, channel_name, "reconciled", f"渠道已有此消息：{ref}")
                    done.append(key)
                else:
                    notice.status, notice.next_attempt_at = "pending", None
                    self._audit(session, notice, now, channel_name, "failed", "上次发送中断，渠道没有此消息，重试")
        return done

    # --------------------------------------------------------------- helpers
    def _audit(self, session: Session, notice: OutreachNotice, now: datetime, channel: Optional[str],
               outcome: str, detail: str) -> None:
        session.add(OutreachAttempt(notice_id=notice.id, at=now, worker=self.worker, channel=channel,
                                    outcome=outcome, detail=detail[:1000]))


__all__ = ["OutreachEngine", "SweepReport", "render"]
