"""Catalogue look-ups by database code: stage texts, SLA hours, product and method names.

The database keeps the stage codes of the application workflow (``STAGES`` in
credit/db/base.py); the catalogue names two of them differently.  Ticket kinds map onto
the catalogue's SLA kinds the same way.  The two dicts below are the only place that
knows about the difference.  Unknown codes never fail a reply: they are shown as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from credit.catalogue.loader import load_catalogue

CATALOGUE_STAGE = {"pending_signing": "pending_signature", "declined": "rejected"}
CATALOGUE_SLA_KIND = {"cancel_request": "cancellation", "account_request": "account_service"}

# Used only when the catalogue has no SLA for a ticket kind (calendar hours).
DEFAULT_SLA_HOURS = {
    "complaint": 24,
    "negotiation": 48,
    "settlement_certificate": 72,
    "cancel_request": 24,
    "account_request": 24,
    "callback": 2,
    "suggestion": 168,
}


@dataclass(frozen=True)
class StageInfo:
    label: str  # 审批中
    description: str  # plain-language explanation
    next_step: str
    expected: str


def stage_info(stage: str) -> StageInfo:
    """Label, explanation, next step and expected time of a stage (from the catalogue)."""
    try:
        entry = load_catalogue().stage(CATALOGUE_STAGE.get(stage, stage))
    except KeyError:
        return StageInfo(stage, "", "", "")
    return StageInfo(entry.name, entry.plain, entry.next_step, entry.expected_time)


def sla_hours_for(kind: str) -> int:
    """First-reply SLA in hours from the catalogue's ``slas``, else DEFAULT_SLA_HOURS."""
    try:
        return int(load_catalogue().sla_hours(CATALOGUE_SLA_KIND.get(kind, kind)))
    except KeyError:
        return DEFAULT_SLA_HOURS[kind]


def product_name(code: str) -> str:
    try:
        return load_catalogue().product(code).name
    except KeyError:  # unknown code: show the code rather than fail
        return code


def method_label(method: str) -> str:
    try:
        return load_catalogue().method_name(method)
    except KeyError:
        return method
