"""``python -m outreach run|preview|status`` — for operators and cron.

    python -m outreach run [--once] [--interval 60]   sweep now (and every interval seconds)
    python -m outreach preview --at 2026-12-01T10:00  what would be sent then, and why; sends nothing
    python -m outreach status                         notices by state, the latest attempts

``--at`` without an offset is Beijing time.  The database is ``DATABASE_URL`` (default var/credit.db).
Exit codes: 0 done; 2 bad usage.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Callable, List, Optional

from credit import clock
from credit.catalogue.loader import load_catalogue
from credit.db.engine import get_engine, init_db
from credit.db.outreach import OutreachNotice  # noqa: F401 - registers the outreach tables
from credit.policy import CHINA_TZ
from outreach.conversation import conversations_from_env
from outreach.engine import OutreachEngine
from outreach.preview import preview, status
from outreach.registry import default_channels


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是 ISO 8601 时间：{value!r}（例如 2026-12-01T10:00）") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m outreach", description="主动联系：还款提醒、结果通知、工单跟进")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="run|preview|status")
    run = sub.add_parser("run", help="按规则发送到期的通知")
    run.add_argument("--once", action="store_true", help="只扫描一次")
    run.add_argument("--interval", type=float, default=60.0, help="两次扫描间隔秒数（默认 60）")
    pre = sub.add_parser("preview", help="预览某一时刻会发什么、为什么（不发送）")
    pre.add_argument("--at", type=_moment, required=True, help="时刻，如 2026-12-01T10:00（不带时区即北京时间）")
    sub.add_parser("status", help="各状态的通知数和最近的发送记录")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    engine = get_engine()
    init_db(engine)
    cat = load_catalogue()
    channels = default_channels(engine)
    if args.verb == "preview":
        rows = preview(engine, cat, args.at, channels)
        print(f"{args.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}（北京时间）会处理 {len(rows)} 条通知：")
        for r in rows:
            print(f"  {r.subject}  {r.template}（{r.kind}）  渠道 {r.channel}  {r.verdict}：{r.why}")
        return 0
    if args.verb == "status":
        report = status(engine)
        counts = report["notices"]
        assert isinstance(counts, dict)
        print("通知：" + ("，".join(f"{k} {v}" for k, v in sorted(counts.items())) or "无"))
        for line in report["recent"]:  # type: ignore[union-attr]
            print("  " + line)
        return 0
    clock.refuse_fake_clock_in_production()
    # RASA_URL + RASA_AUTH_TOKEN: each delivered WeChat notice is also written into the conversation
    runner = OutreachEngine(engine, cat, channels, clock.now, conversations=conversations_from_env())

    def sweep() -> None:
        report = runner.sweep()
        print(f"新计划 {report.planned}，发送 {len(report.sent)}，暂缓 {len(report.held)}，"
              f"不发 {len(report.suppressed)}，失败 {len(report.failed)}，核对 {len(report.reconciled)}，"
              f"待核实 {len(report.unconfirmed)}", flush=True)

    if args.once:
        sweep()
        return 0
    schedule(sweep, max(args.interval, 1.0))
    return 0


def schedule(sweep: Callable[[], None], interval: float) -> None:
    """APScheduler only triggers the sweep; all state is in the database.  A late run is never dropped
    (no misfire grace limit) and missed runs coalesce into one, which catches everything up."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    scheduler.add_job(sweep, "interval", seconds=interval, next_run_time=datetime.now(CHINA_TZ), coalesce=True,
                      misfire_grace_time=None, max_instances=1, id="outreach-sweep")
    scheduler.add_listener(lambda event: print(f"扫描未按时运行或出错：{event}", file=sys.stderr, flush=True),
                           EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    scheduler.start()


if __name__ == "__main__":
    sys.exit(main())
