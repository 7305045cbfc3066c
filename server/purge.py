"""Delete personal data past its retention period (PIPL: keep no longer than necessary).

    python -m server.purge [--dry-run] [--endpoints endpoints.yml] [--now 2027-01-01T00:00:00]
    python -m server.purge --forget wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M    # one customer's conversation, now

Retention periods come from :mod:`server.settings` (environment, documented defaults):

* conversations (tracker events), in the tracker store (``endpoints.yml`` or
  ``TRACKER_STORE_URL``): ``RETENTION_CONVERSATIONS_DAYS`` (180);
* hand-off summaries, identity-check audit, SMS outbox, outreach notices and their attempts, in the
  loan database (``DATABASE_URL``): ``RETENTION_CONVERSATIONS_DAYS`` (180);
* tickets, risk events, in the loan database: ``RETENTION_TICKETS_DAYS`` (1095);
* export files, ``EXPORT_PATTERNS`` under ``EXPORT_DIR`` (default ``review_*.xlsx``/``.csv``
  in ``var/ops``): ``RETENTION_EXPORTS_DAYS`` (30);
* one-time codes, verifications, in the loan database: ``RETENTION_CREDENTIALS_DAYS`` (1)
  after they expired.

Tracker events: a conversation whose last event is older than the cutoff is deleted
whole; in a conversation still going on, the events older than the cutoff are deleted
only when they precede its current session (the sender's latest ``session_started``),
so a live session is never cut in half.
Export audit records (who exported what, when) are not personal data of customers and
are not purged here.  Prints what it deleted (or would delete) as JSON; exit code 0.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import Engine

from credit.db.engine import get_engine, init_db
from credit.db.identity import OtpCode, Verification, VerificationAttempt
from credit.db.interceptions import Interception
from credit.db.outreach import OutreachAttempt, OutreachNotice
from credit.db.sms import RulesSms, SmsOutbox
from credit.db.tickets import Handoff, RiskEvent, Ticket, TicketContact
from server.settings import PROJECT_ROOT, Retention

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    now: str
    dry_run: bool
    cutoffs: Dict[str, str]
    deleted: Dict[str, int] = field(default_factory=dict)
    files: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"now": self.now, "dry_run": self.dry_run, "cutoffs": self.cutoffs, "deleted": self.deleted,
                "files": self.files, "skipped": self.skipped}


def tracker_store_url(endpoints: Optional[Path]) -> Optional[str]:
    """SQLAlchemy URL of the SQL tracker store: ``TRACKER_STORE_URL`` or ``endpoints.yml``."""
    if os.environ.get("TRACKER_STORE_URL"):
        return os.environ["TRACKER_STORE_URL"]
    path = endpoints or PROJECT_ROOT / "endpoints.yml"
    if not path.exists():
        return None
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(path), "tracker_store")
    if config is None or (config.type or "").lower() != "sql":
        return None
    kw = dict(config.kwargs)
    db = kw.get("db", "rasa.db")
    dialect = kw.get("dialect", "sqlite")
    if dialect == "sqlite" and not Path(db).is_absolute():
        db = str(PROJECT_ROOT / db)
    url = SQLTrackerStore.get_db_url(dialect, config.url, kw.get("port"), db, kw.get("username"),
                                     kw.get("password"), kw.get("login_db"), kw.get("query"))
    return url.render_as_string(hide_password=False) if hasattr(url, "render_as_string") else str(url)


def purge_tracker_events(engine: Engine, cutoff: datetime, dry_run: bool) -> int:
    """Delete events older than ``cutoff``: whole conversations that ended before it, and
    in conversations still going, the old sessions before the current one."""
    ts = cutoff.timestamp()
    where = (
        "FROM events WHERE timestamp < :cutoff AND ("
        "(SELECT MAX(a.timestamp) FROM events a WHERE a.sender_id = events.sender_id) < :cutoff "
        "OR timestamp < COALESCE((SELECT MAX(s.timestamp) FROM events s WHERE s.sender_id = events.sender_id "
        "AND s.type_name = 'session_started'), 0))"
    )
    if not _has_events_table(engine):
        return 0
    with engine.begin() as conn:
        if dry_run:
            return int(conn.execute(text(f"SELECT COUNT(*) {where}"), {"cutoff": ts}).scalar() or 0)
        return int(conn.execute(text(f"DELETE {where}"), {"cutoff": ts}).rowcount or 0)


def _has_events_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("events")


def _purge_rows(engine: Engine, model: Any, column: Any, cutoff: datetime, dry_run: bool) -> int:
    from sqlalchemy import func, select

    naive = cutoff.astimezone(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        if dry_run:
            return int(conn.execute(select(func.count()).select_from(model).where(column < naive)).scalar() or 0)
        return int(conn.execute(delete(model).where(column < naive)).rowcount or 0)


def purge_loan_database(engine: Engine, retention: Retention, now: datetime, dry_run: bool) -> Dict[str, int]:
    init_db(engine)
    conversations = now - timedelta(days=retention.conversations_days)
    tickets = now - timedelta(days=retention.tickets_days)
    credentials = now - timedelta(days=retention.credentials_days)
    expired_tickets = select(Ticket.id).where(Ticket.created_at < tickets.astimezone(timezone.utc).replace(tzinfo=None))
    with engine.begin() as conn:  # a ticket's call-back number goes with it (no reliance on FK cascades)
        contacts = int(conn.execute(select(func.count()).select_from(TicketContact)
                                    .where(TicketContact.ticket_id.in_(expired_tickets))).scalar() or 0)
        if not dry_run:
            conn.execute(delete(TicketContact).where(TicketContact.ticket_id.in_(expired_tickets)))
    plan = [
        ("tickets", Ticket, Ticket.created_at, tickets),
        ("risk_events", RiskEvent, RiskEvent.created_at, tickets),
        # the output guard's audit records (masked text), kept as long as complaint and risk records
        ("compliance_interceptions", Interception, Interception.created_at, tickets),
        ("handoffs", Handoff, Handoff.created_at, conversations),
        ("verification_attempts", VerificationAttempt, VerificationAttempt.created_at, conversations),
        ("sms_outbox", SmsOutbox, SmsOutbox.created_at, conversations),
        ("rules_sms", RulesSms, RulesSms.created_at, conversations),
        ("otp_codes", OtpCode, OtpCode.expires_at, credentials),
        ("verifications", Verification, Verification.expires_at, credentials),
        # the outreach audit trail first; then the notices left without attempts (below)
        ("outreach_attempts", OutreachAttempt, OutreachAttempt.at, conversations),
    ]
    counts = {name: _purge_rows(engine, model, column, cutoff, dry_run) for name, model, column, cutoff in plan}
    counts["outreach_notices"] = _purge_notices(engine, conversations, dry_run)
    return {"ticket_contacts": contacts, **counts}


def _purge_notices(engine: Engine, cutoff: datetime, dry_run: bool) -> int:
    """Notices past retention whose attempts are all gone (a recent retry keeps its notice)."""
    naive = cutoff.astimezone(timezone.utc).replace(tzinfo=None)
    attempted = select(OutreachAttempt.notice_id)
    old = (OutreachNotice.created_at < naive) & OutreachNotice.id.not_in(attempted)
    with engine.begin() as conn:
        if dry_run:
            return int(conn.execute(select(func.count()).select_from(OutreachNotice).where(old)).scalar() or 0)
        return int(conn.execute(delete(OutreachNotice).where(old)).rowcount or 0)


def purge_exports(directory: Path, cutoff: datetime, dry_run: bool,
                  patterns: Sequence[str] = ("review_*.xlsx", "review_*.csv")) -> List[str]:
    removed: List[str] = []
    if not directory.is_dir():
        return removed
    candidates = sorted({path for pattern in patterns for path in directory.rglob(pattern)})
    for path in candidates:
        if path.is_file() and not path.is_symlink():
            if datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) < cutoff:
                removed.append(str(path))
                if not dry_run:
                    path.unlink()
    return removed


def purge(now: Optional[datetime] = None, dry_run: bool = False, retention: Optional[Retention] = None,
          database_url: Optional[str] = None, tracker_url: Optional[str] = None,
          endpoints: Optional[Path] = None) -> PurgeReport:
    now = now or datetime.now(timezone.utc)
    retention = retention or Retention.from_env()
    cutoffs = {
        "conversations": (now - timedelta(days=retention.conversations_days)).isoformat(),
        "tickets": (now - timedelta(days=retention.tickets_days)).isoformat(),
        "exports": (now - timedelta(days=retention.exports_days)).isoformat(),
        "credentials": (now - timedelta(days=retention.credentials_days)).isoformat(),
    }
    report = PurgeReport(now.isoformat(), dry_run, cutoffs)
    loan_engine = get_engine(database_url)
    try:
        report.deleted.update(purge_loan_database(loan_engine, retention, now, dry_run))
    finally:
        loan_engine.dispose()
    url = tracker_url or tracker_store_url(endpoints)
    if url:
        engine = create_engine(url)
        try:
            report.deleted["tracker_events"] = purge_tracker_events(
                engine, now - timedelta(days=retention.conversations_days), dry_run)
        finally:
            engine.dispose()
    else:
        report.skipped.append("tracker_events: no SQL tracker store configured")
    report.files = purge_exports(retention.export_dir, now - timedelta(days=retention.exports_days), dry_run,
                                 retention.export_patterns)
    report.deleted["export_files"] = len(report.files)
    return report


def forget_conversation(conversation_id: str, dry_run: bool = False, database_url: Optional[str] = None,
                        tracker_url: Optional[str] = None, endpoints: Optional[Path] = None) -> Dict[str, int]:
    """A customer's request to delete their conversation (PIPL art. 47): its tracker events,
    hand-offs, identity-check records and one-time codes.  Tickets and risk events stay
    until their own retention period (complaint and anti-fraud records)."""
    from sqlalchemy import func, select

    deleted: Dict[str, int] = {}
    loan_engine = get_engine(database_url)
    try:
        init_db(loan_engine)
        for name, model in (("handoffs", Handoff), ("verification_attempts", VerificationAttempt),
                            ("verifications", Verification), ("otp_codes", OtpCode)):
            with loan_engine.begin() as conn:
                where = model.sender_id == conversation_id
                if dry_run:
                    count = select(func.count()).select_from(model).where(where)
                    deleted[name] = int(conn.execute(count).scalar() or 0)
                else:
                    deleted[name] = int(conn.execute(delete(model).where(where)).rowcount or 0)
    finally:
        loan_engine.dispose()
    url = tracker_url or tracker_store_url(endpoints)
    if url:
        engine = create_engine(url)
        try:
            if _has_events_table(engine):
                with engine.begin() as conn:
                    verb = "SELECT COUNT(*)" if dry_run else "DELETE"
                    result = conn.execute(text(f"{verb} FROM events WHERE sender_id = :s"), {"s": conversation_id})
                    deleted["tracker_events"] = int(result.scalar() if dry_run else result.rowcount or 0)
        finally:
            engine.dispose()
    return deleted


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.purge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    parser.add_argument("--endpoints", type=Path, default=None, help="endpoints.yml naming the tracker store")
    parser.add_argument("--now", default=None, help="ISO time to purge as of (default: now, UTC)")
    parser.add_argument("--forget", metavar="CONVERSATION_ID", default=None,
                        help="instead: delete one conversation now (e.g. wx:o6_bmjr...), on the customer's request")
    args = parser.parse_args(argv)
    if args.forget:
        deleted = forget_conversation(args.forget, dry_run=args.dry_run, endpoints=args.endpoints)
        print(json.dumps({"conversation": args.forget, "dry_run": args.dry_run, "deleted": deleted},
                         ensure_ascii=False, indent=2))
        return 0
    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    report = purge(now=now, dry_run=args.dry_run, endpoints=args.endpoints)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
