"""A sudden rise of compliance interceptions after a promote: the output guard (``credit/guard``) records
every bot message it had to mask or replace with the model that chose it; a newly promoted model that
makes the guard step in far more often than the one before is flagged on the dashboard and named as a
reason by the rollback step (``python -m ops rollback`` and the console's rollback button).

The rule: since the latest promote (the manifest's log ends with ``promote``), at least
:data:`MIN_AFTER` interceptions of the live model, at a daily rate at least :data:`FACTOR` times that of
an equally long stretch before the promote (rates over at least a day, so the first hour's few messages are
no sample; the stretch before at most :data:`MAX_BEFORE_DAYS`).  A rollback
(or a promote of another model) starts the comparison afresh.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ops.project import Project
from ops.retrain.store import load_manifest

MIN_AFTER = 3
FACTOR = 2.0
MAX_BEFORE_DAYS = 7


@dataclass(frozen=True)
class Rise:
    model: str
    model_id: str
    promoted_at: dt.datetime
    hours: float
    after: int
    before: int
    per_day_after: float
    per_day_before: float
    rules: Counter = field(default_factory=Counter)

    def reason(self) -> str:
        from credit.compliance import RULE_LABELS

        top = "、".join(f"{RULE_LABELS.get(rule, rule)} {n} 次" for rule, n in self.rules.most_common(3))
        return (f"上线 {self.model}（{self.promoted_at:%Y-%m-%d %H:%M}）后合规拦截激增：{self.hours:.0f} 小时内拦截 "
                f"{self.after} 次，约每天 {self.per_day_after:.1f} 次，上线前约每天 {self.per_day_before:.1f} 次"
                f"（{top}）。")


def _latest_promote(manifest: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    log = [e for e in manifest.get("log") or [] if e.get("action") in ("promote", "rollback")]
    current = manifest.get("current") or {}
    if not log or log[-1].get("action") != "promote" or not current.get("promoted_at"):
        return None
    return current


def rise_after_promote(project: Project, credit_url: Optional[str],
                       now: Optional[dt.datetime] = None) -> Optional[Rise]:
    """The rise after the latest promote, or None (no promote, no database, no rise)."""
    current = _latest_promote(load_manifest(project))
    if current is None or not credit_url:
        return None
    promoted = dt.datetime.fromisoformat(str(current["promoted_at"]))
    if promoted.tzinfo is None:
        promoted = promoted.astimezone()
    now = now or dt.datetime.now(dt.timezone.utc)
    elapsed = max(now - promoted, dt.timedelta(minutes=1))
    after_len = max(elapsed, dt.timedelta(days=1))  # rates over a day at least: the first hour is no sample
    before_len = min(after_len, dt.timedelta(days=MAX_BEFORE_DAYS))
    items = _interceptions(credit_url, promoted - before_len, now)
    live = str(current.get("model_id") or "")
    after = [i for i in items if i.created_at >= promoted and (not live or i.model_id == live)]
    before = [i for i in items if i.created_at < promoted]
    days_after, days_before = after_len / dt.timedelta(days=1), before_len / dt.timedelta(days=1)
    rate_after, rate_before = len(after) / days_after, len(before) / days_before
    if len(after) < MIN_AFTER or rate_after < FACTOR * rate_before:
        return None
    return Rise(str(current.get("source") or current.get("file") or ""), live, promoted,
                elapsed / dt.timedelta(hours=1), len(after), len(before), rate_after, rate_before,
                Counter(i.rule for i in after))


def _interceptions(credit_url: str, start: dt.datetime, end: dt.datetime) -> List[Any]:
    """The dialogue's interceptions (those with a model: outreach notices are not the model's doing)."""
    from sqlalchemy import inspect

    from credit.db.engine import get_engine
    from credit.guard.records import between

    if credit_url.startswith("sqlite:///"):
        from pathlib import Path

        from credit.db.engine import resolve_database_url

        if not Path(resolve_database_url(credit_url)[len("sqlite:///"):]).exists():
            return []
    engine = get_engine(credit_url)
    try:
        if not inspect(engine).has_table("compliance_interceptions"):
            return []
        return [i for i in between(engine, start, end) if i.model_id]
    finally:
        engine.dispose()
