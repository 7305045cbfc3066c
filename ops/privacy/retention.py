"""Delete the ops team's records of customers past their retention period; with ``--all``, first everything
`python -m server.purge` deletes (the tracker store, the credit database, the review exports): the one daily
purge, run by `make purge` and the Kubernetes CronJob (``server`` cannot import ``ops``, so the whole purge
starts here).

    python -m ops.privacy.retention [--all] [--dry-run] [--now 2027-01-01T00:00:00] [--project <root>]

Periods from :class:`server.settings.Retention` (one place for them all):

* audit entries — who viewed which conversation, who approved which request — after
  ``RETENTION_AUDIT_DAYS`` (1095);
* handled PIPL requests (the proof that a customer's request was carried out) after ``RETENTION_AUDIT_DAYS``;
  pending ones stay until decided;
* inbox decisions (masked message texts marked labelled, skipped or new need) after
  ``RETENTION_CONVERSATIONS_DAYS`` (180): by then the conversations they were chosen from are gone;
* PIPL export files (var/ops/pipl/request-<id>.json, masked) after ``RETENTION_EXPORTS_DAYS`` (30);
* command-line tokens a day after they expired or were revoked.

Prints what it deleted (or would delete) as JSON; exit code 0.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Optional, Sequence

from ops.project import Project
from ops.statedb import connect
from server.settings import Retention


def purge_ops_records(project: Project, retention: Retention, now: datetime, dry_run: bool = False
                      ) -> Dict[str, int]:
    audit_cutoff = (now - timedelta(days=retention.audit_days)).timestamp()
    inbox_cutoff = (now - timedelta(days=retention.conversations_days)).timestamp()
    plan = [
        ("audit", "at < ?", audit_cutoff),
        ("pipl_requests", "state != 'pending' AND COALESCE(decided_at, requested_at) < ?", audit_cutoff),
        ("inbox_decisions", "at < ?", inbox_cutoff),
        ("cli_tokens", "MIN(expires_at, COALESCE(revoked_at, expires_at)) < ?", now.timestamp() - 86400),
    ]
    counts: Dict[str, int] = {}
    conn = connect(project)
    try:
        for table, where, cutoff in plan:
            verb = "SELECT count(*)" if dry_run else "DELETE"
            cur = conn.execute(f"{verb} FROM {table} WHERE {where}", (cutoff,))
            counts[table] = int(cur.fetchone()[0] if dry_run else cur.rowcount or 0)
    finally:
        conn.close()
    counts["pipl_export_files"] = _purge_files(project.root / "var" / "ops" / "pipl",
                                               now - timedelta(days=retention.exports_days), dry_run)
    return counts


def _purge_files(directory: Path, cutoff: datetime, dry_run: bool) -> int:
    removed = 0
    for path in sorted(directory.glob("request-*.json")) if directory.is_dir() else []:
        if path.is_file() and not path.is_symlink() and \
                datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) < cutoff:
            removed += 1
            if not dry_run:
                path.unlink()
    return removed


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.privacy.retention", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    parser.add_argument("--now", default=None, help="ISO time to purge as of (default: now, UTC)")
    parser.add_argument("--project", type=Path, default=None, help="project root (default: the current directory)")
    parser.add_argument("--all", action="store_true", help="first run python -m server.purge's purge as well")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(timezone.utc)
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    retention = Retention.from_env()
    project = Project.at(args.project)
    out: Dict[str, object] = {"now": now.isoformat(), "dry_run": args.dry_run}
    if args.all:
        from server.purge import purge

        out["server"] = purge(now=now, dry_run=args.dry_run, retention=retention).as_dict()
    out["deleted"] = purge_ops_records(project, retention, now, args.dry_run)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
