"""One WeChat user across the 公众号 and 微信客服: a customer's unionid bindings (verified or only declared)
and what kf/customer/batchget told the 微信客服 channel about an ``external_userid``
(:mod:`credit.wechat_identity` reads them)."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String

from credit.db.base import Base, UtcDateTime, utcnow

MAX_ID_CHARS = 128


class WeChatUnionId(Base):
    __tablename__ = "wechat_unionids"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    unionid = Column(String(MAX_ID_CHARS), nullable=False, unique=True)
    verified = Column(Boolean, nullable=False, default=False)
    source = Column(String(32), nullable=False)  # wechat_oa | strong_check | ops | declared
    bound_at = Column(UtcDateTime, nullable=False, default=utcnow)


class WeComKfCustomer(Base):
    __tablename__ = "wecom_kf_customers"

    external_userid = Column(String(MAX_ID_CHARS), primary_key=True)
    unionid = Column(String(MAX_ID_CHARS), nullable=True)
    fetched_at = Column(UtcDateTime, nullable=False, default=utcnow)
