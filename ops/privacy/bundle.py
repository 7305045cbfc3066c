"""What a PIPL export holds of the credit database, section by section, masked — and which of its rows a
deletion takes (:func:`customer_phones`: the numbers the SMS outbox is searched by).

One reader per kind of record, so that every table holding a customer's data is named once here
(tests/ops/privacy/test_schema_walk.py walks the schema and checks each personal column is exported here and
deleted by :func:`ops.privacy.pipl.delete`, or is a legal-retention exception in docs/privacy.md):

* the customer's own profile (name, ID digits, mobile, OpenID — masked);
* tickets (detail, contact, call-back number, how they were closed, the rating and comment), hand-offs,
  risk events;
* identity checks: failure counters and locks, attempts, granted verifications, one-time codes (when, never
  the code or its hash);
* every SMS the gateway wrote to the outbox for the customer's numbers (number and text masked);
* outreach: contact points with their consent, emergency contacts, notices and every delivery attempt.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Set

from ops.text import mask_text


def _when(moment: Any) -> Any:
    return str(moment) if moment is not None else None


def masked_address(channel: str, address: str) -> str:
    """A contact address as the customer may see it in an export file: a number like 138****5678, an
    OpenID or web session id by its ends only (credit.text.masking finds no number in them)."""
    from credit.text.masking import mask_phone, mask_pii

    if channel in ("sms", "phone"):
        return mask_phone(address)
    shown = mask_pii(address or "")
    return f"{shown[:4]}****{shown[-4:]}" if len(shown) > 12 else "****"


def customer_phones(session: Any, customers: Sequence[int], senders: Sequence[str]) -> Set[str]:
    """Every mobile number of the customers: registered, contact points, and call-back numbers of their tickets."""
    from credit.db.loans import Customer
    from credit.db.outreach import ContactPoint
    from credit.db.tickets import Ticket, TicketContact

    phones = {p for (p,) in session.query(Customer.phone).filter(Customer.id.in_(customers))}
    phones |= {a for (a,) in session.query(ContactPoint.address).filter(
        ContactPoint.customer_id.in_(customers), ContactPoint.channel.in_(("sms", "phone")))}
    phones |= {p for (p,) in session.query(TicketContact.phone).join(Ticket, Ticket.id == TicketContact.ticket_id)
               .filter(Ticket.sender_id.in_(senders))}
    return {p for p in phones if p}


def profile(session: Any, customers: Sequence[int]) -> List[Dict[str, Any]]:
    from credit.db.loans import Customer
    from credit.text.masking import mask_phone

    return [{"name": (c.name or "")[:1] + "某", "id_last4": "****", "id_number": c.id_number_masked,
             "phone": mask_phone(c.phone), "wechat": masked_address("wechat", c.wechat_openid or "")
             if c.wechat_openid else None, "created_at": _when(c.created_at)}
            for c in session.query(Customer).filter(Customer.id.in_(customers)).order_by(Customer.id)]


def tickets(session: Any, senders: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
    """Tickets with how they were closed, hand-offs and risk events of the conversations."""
    from credit.db.tickets import Handoff, RiskEvent, Ticket, TicketContact, TicketOutcome

    call_back = dict(session.query(TicketContact.ticket_id, TicketContact.phone))
    closed = session.query(TicketOutcome).join(Ticket, Ticket.id == TicketOutcome.ticket_id)
    outcomes = {o.ticket_id: o for o in closed.filter(Ticket.sender_id.in_(senders))}
    return {
        "tickets": [{"number": t.number, "kind": t.kind, "status": t.status, "conversation": t.sender_id,
                     "detail": mask_text(t.detail or ""), "contact": mask_text(t.contact or ""),
                     "created_at": str(t.created_at), "call_back_number": mask_text(call_back.get(t.id, "")),
                     **_outcome(outcomes.get(t.id))}
                    for t in session.query(Ticket).filter(Ticket.sender_id.in_(senders))],
        "handoffs": [{"conversation": h.sender_id, "queue": h.queue, "summary": mask_text(h.summary or ""),
                      "created_at": str(h.created_at)}
                     for h in session.query(Handoff).filter(Handoff.sender_id.in_(senders))],
        "risk_events": [{"conversation": r.sender_id, "kind": r.kind, "text": mask_text(r.text or ""),
                         "created_at": str(r.created_at)}
                        for r in session.query(RiskEvent).filter(RiskEvent.sender_id.in_(senders))],
    }


def _outcome(outcome: Any) -> Dict[str, Any]:
    """How a ticket was closed and what the customer answered the follow-up (nothing while it is open)."""
    if outcome is None:
        return {}
    return {"closed_at": str(outcome.closed_at), "resolution": mask_text(outcome.resolution or ""),
            "satisfaction": outcome.satisfaction, "satisfaction_comment": mask_text(outcome.satisfaction_comment or "")}


def identity_checks(session: Any, senders: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
    """The identity checks of the conversations: never the digits tried, a code or its hash."""
    from credit.db.identity import OtpCode, Verification, VerificationAttempt, VerificationCounter

    return {
        "verification_locks": [{"conversation": c.key, "failures": c.failures, "locked_until": _when(c.locked_until)}
                               for c in session.query(VerificationCounter).filter(
                                   VerificationCounter.scope == "sender", VerificationCounter.key.in_(senders))],
        "verification_attempts": [{"conversation": a.sender_id, "application": a.application_id, "result": a.result,
                                   "at": _when(a.created_at)}
                                  for a in session.query(VerificationAttempt).filter(
                                      VerificationAttempt.sender_id.in_(senders))],
        "verifications": [{"conversation": v.sender_id, "application": v.application_id, "level": v.level,
                           "method": v.method, "at": _when(v.created_at), "expires_at": _when(v.expires_at)}
                          for v in session.query(Verification).filter(Verification.sender_id.in_(senders))],
        "sms_codes": [{"conversation": o.sender_id, "application": o.application_id, "sent_at": _when(o.created_at),
                       "used": bool(o.used)}
                      for o in session.query(OtpCode).filter(OtpCode.sender_id.in_(senders))],
    }


def sms(session: Any, phones: Set[str]) -> List[Dict[str, Any]]:
    """Every text the SMS gateway wrote to the outbox for the customer's numbers."""
    from credit.db.sms import SmsOutbox
    from credit.text.masking import mask_phone

    return [{"phone": mask_phone(m.phone), "text": mask_text(m.text or ""), "at": _when(m.created_at)}
            for m in session.query(SmsOutbox).filter(SmsOutbox.phone.in_(sorted(phones))).order_by(SmsOutbox.id)]


def outreach(session: Any, customers: Sequence[int]) -> Dict[str, List[Dict[str, Any]]]:
    """What outreach holds about the customers: where and whether they may be reached, whom they named, and
    every notice with its attempts (audit details are stored masked and masked again here)."""
    from credit.catalogue.loader import load_catalogue
    from credit.db.outreach import ContactPoint, EmergencyContact, OutreachAttempt, OutreachNotice
    from credit.text.masking import mask_phone

    names = {rule.kind: rule.name for rule in load_catalogue().outreach.notices}
    points = (session.query(ContactPoint).filter(ContactPoint.customer_id.in_(customers))
              .order_by(ContactPoint.id).all())
    notices = {n.id: n for n in session.query(OutreachNotice).filter(OutreachNotice.customer_id.in_(customers))
               .order_by(OutreachNotice.id)}
    attempts = (session.query(OutreachAttempt).filter(OutreachAttempt.notice_id.in_(list(notices)))
                .order_by(OutreachAttempt.id).all())
    return {
        "contact_points": [{"channel": p.channel, "address": masked_address(p.channel, p.address),
                            "verified": bool(p.verified)} for p in points],
        "consents": [{"channel": p.channel, "address": masked_address(p.channel, p.address),
                      "subscribed": bool(p.subscribed), "state": "接收通知" if p.subscribed else "已退订",
                      "changed_at": _when(p.changed_at)} for p in points],
        "emergency_contacts": [{"name": (e.name or "")[:1] + "某", "relation": e.relation,
                                "phone": mask_phone(e.phone)}
                               for e in session.query(EmergencyContact)
                               .filter(EmergencyContact.customer_id.in_(customers)).order_by(EmergencyContact.id)],
        "notices": [{"kind": n.kind, "name": names.get(n.kind, n.kind), "subject": n.subject, "status": n.status,
                     "channel": n.channel, "due_at": _when(n.due_at), "sent_at": _when(n.sent_at),
                     "fields": mask_text(n.fields or "")}
                    for n in notices.values()],
        "notice_attempts": [{"kind": notices[a.notice_id].kind, "subject": notices[a.notice_id].subject,
                             "at": _when(a.at), "channel": a.channel, "outcome": a.outcome,
                             "detail": mask_text(a.detail or "")} for a in attempts],
    }
