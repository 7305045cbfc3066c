"""One WeChat user across the 公众号 and 微信客服: the ``unionid`` links them.

* ``wechat_unionids`` — a customer's WeChat unionid, and whether that binding was *verified* (made
  through a verified channel: the verified Official Account binding, or a strong check on a channel);
  a binding someone only declared stays ``verified = False``;
* ``wecom_kf_customers`` — what kf/customer/batchget told the 微信客服 channel about an
  ``external_userid`` (its unionid, where the company has bound a WeChat developer account).

A 微信客服 customer whose unionid is bound *verified* to the application's customer counts as that
customer for SMS-free strong verification, as a bound OpenID does on the Official Account
(:func:`strong_by_kf`); an unverified binding, or no unionid, gets the SMS code as everyone else.
The tables are :mod:`credit.db.wechat`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from credit.db.base import utcnow
from credit.db.engine import session_scope
from credit.db.loans import Application
from credit.db.wechat import MAX_ID_CHARS, WeChatUnionId, WeComKfCustomer
from credit.text import inputs

METHOD = "wecom_unionid"  # verifications.method


def _id(value: Any) -> Optional[str]:
    return value.strip() if isinstance(value, str) and 0 < len(value.strip()) <= MAX_ID_CHARS else None


def bind_unionid(session: Session, customer_id: int, unionid: str, verified: bool, source: str,
                 now: Optional[datetime] = None) -> None:
    """Bind (or re-bind) a unionid to a customer; re-binding never upgrades an unverified source silently."""
    value = _id(unionid)
    if value is None:
        raise ValueError("unionid 无效")
    row = session.execute(select(WeChatUnionId).where(WeChatUnionId.unionid == value)).scalar_one_or_none()
    if row is None:
        session.add(WeChatUnionId(customer_id=customer_id, unionid=value, verified=verified, source=source,
                                  bound_at=now or utcnow()))
        return
    row.customer_id, row.verified, row.source, row.bound_at = customer_id, verified, source, now or utcnow()


def record_kf_customer(engine: Engine, external_userid: str, unionid: Optional[str],
                       now: Optional[datetime] = None) -> None:
    """What kf/customer/batchget said about an external_userid (the channel calls this once per customer)."""
    key = _id(external_userid)
    if key is None:
        raise ValueError("external_userid 无效")
    with session_scope(engine) as session:
        row = session.get(WeComKfCustomer, key)
        if row is None:
            session.add(WeComKfCustomer(external_userid=key, unionid=_id(unionid), fetched_at=now or utcnow()))
        else:
            row.unionid, row.fetched_at = _id(unionid), now or utcnow()


def kf_customer_known(engine: Engine, external_userid: str) -> bool:
    key = _id(external_userid)
    if key is None:
        return False
    with session_scope(engine) as session:
        return session.get(WeComKfCustomer, key) is not None


def verified_unionid_customer(session: Session, external_userid: Any) -> Optional[int]:
    """The customer id a kf external_userid is, by a *verified* unionid binding; None otherwise."""
    key = _id(external_userid)
    if key is None:
        return None
    kf = session.get(WeComKfCustomer, key)
    if kf is None or not kf.unionid:
        return None
    binding = session.execute(select(WeChatUnionId).where(WeChatUnionId.unionid == kf.unionid)).scalar_one_or_none()
    if binding is None or not binding.verified:
        return None
    return binding.customer_id


def strong_by_kf(verifier: Any, sender_id: Any, external_userid: Any, application_id: Any) -> bool:
    """Strong verification when the application's customer is this kf customer by a verified unionid
    binding (``verifier``: :class:`credit.verification.Verifier`, whose ``grant`` records it)."""
    sender = inputs.sender(sender_id)
    app_id = inputs.APPLICATION_ID.normalise(application_id)
    if app_id is None:
        return False
    with verifier.store.session() as session:
        customer_id = verified_unionid_customer(session, external_userid)
        if customer_id is None:
            return False
        owner = session.execute(select(Application.customer_id).where(Application.application_id == app_id)).first()
        if owner is None or owner[0] != customer_id:
            return False
        verifier.grant(session, sender, app_id, "strong", METHOD)
        return True


DEMO_UNIONIDS = (
    # (application, unionid, verified, source): 赵磊's comes with his verified 公众号 binding; 李娜's was only
    # declared (an unverified binding: it must not spare her the SMS code)
    ("SQ202610300006", "u_demo_unionid_3579", True, "wechat_oa"),
    ("SQ202611180002", "u_demo_unionid_5678", False, "declared"),
)


def seed_demo_unionids(session: Session, now: datetime) -> None:
    for app_id, unionid, verified, source in DEMO_UNIONIDS:
        row = session.get(Application, app_id)
        if row is not None:
            bind_unionid(session, row.customer_id, unionid, verified, source, now)


__all__ = ["WeChatUnionId", "WeComKfCustomer", "bind_unionid", "record_kf_customer", "kf_customer_known",
           "verified_unionid_customer", "strong_by_kf", "seed_demo_unionids", "DEMO_UNIONIDS", "METHOD"]
