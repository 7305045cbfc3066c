"""Customers, their applications, loans and instalments (the lending records the service reads and the seed writes)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from credit.db.base import Base, Money, Rate, UtcDateTime, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    id_last4 = Column(String(4), nullable=False)  # upper-case, 'X' allowed last
    id_number_masked = Column(String(32), nullable=False)  # never the full ID number
    phone = Column(String(20), nullable=False)  # full: needed for SMS, never shown unmasked
    wechat_openid = Column(String(128), nullable=True, unique=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)

    applications = relationship("Application", back_populates="customer")


class Application(Base):
    __tablename__ = "applications"

    application_id = Column(String(14), primary_key=True)  # 'SQ' + 12 digits
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    product = Column(String(32), nullable=False)  # catalogue product code
    amount = Column(Money, nullable=False)
    term = Column(Integer, nullable=False)  # months
    stage = Column(String(20), nullable=False)
    submitted_at = Column(UtcDateTime, nullable=False)
    stage_updated_at = Column(UtcDateTime, nullable=False)
    expected_next_step = Column(Text, nullable=True)
    expected_done_at = Column(UtcDateTime, nullable=True)

    customer = relationship("Customer", back_populates="applications")
    loan = relationship("Loan", back_populates="application", uselist=False)


class Loan(Base):
    __tablename__ = "loans"

    id = Column(Integer, primary_key=True)
    application_id = Column(
        String(14), ForeignKey("applications.application_id"), nullable=False, unique=True
    )
    principal = Column(Money, nullable=False)
    annual_rate = Column(Rate, nullable=False)
    term_months = Column(Integer, nullable=False)
    method = Column(String(32), nullable=False)  # equal_installment|equal_principal|interest_only
    disbursed_at = Column(UtcDateTime, nullable=False)
    outstanding_principal = Column(Money, nullable=False)
    paid_periods = Column(Integer, nullable=False, default=0)
    status = Column(String(16), nullable=False, default="active")

    application = relationship("Application", back_populates="loan")
    installments = relationship(
        "LoanInstallment",
        back_populates="loan",
        order_by="LoanInstallment.period",
        cascade="all, delete-orphan",
    )


class LoanInstallment(Base):
    __tablename__ = "loan_installments"
    __table_args__ = (UniqueConstraint("loan_id", "period", name="uq_installment_period"),)

    id = Column(Integer, primary_key=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    period = Column(Integer, nullable=False)  # 1-based
    due_date = Column(Date, nullable=False)
    payment = Column(Money, nullable=False)
    principal = Column(Money, nullable=False)
    interest = Column(Money, nullable=False)
    remaining = Column(Money, nullable=False)  # principal remaining after this period
    paid = Column(Boolean, nullable=False, default=False)
    paid_at = Column(UtcDateTime, nullable=True)

    loan = relationship("Loan", back_populates="installments")
