"""Schema only: ``python -m credit.migrate [--database-url URL]`` creates every missing table, writes no rows.

The project's schema story is ``create_all`` (:func:`credit.db.engine.init_db`, no ALTER), and every process also
creates missing tables on first use. A deployment runs this once before the servers start (the Kubernetes
Job ``deploy/k8s/migrate-job.yaml``), so that several replicas starting at once on a new PostgreSQL
database do not race to create the same tables. Unlike ``python -m credit.seed`` it never adds demo data:
a production loan database stays empty of fictional customers.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from sqlalchemy import inspect
from sqlalchemy.exc import ArgumentError, OperationalError

from credit.db.base import Base
from credit.db.engine import get_engine, init_db, register_tables


def migrate(url: str | None = None) -> tuple[list[str], list[str]]:
    """(tables created now, tables that were there already)."""
    engine = get_engine(url)
    try:
        before = set(inspect(engine).get_table_names())
        init_db(engine)
        after = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    register_tables()
    wanted = set(Base.metadata.tables)
    return sorted((after - before) & wanted), sorted(before & wanted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m credit.migrate",
                                     description="创建业务数据库中缺少的表（不写入任何数据）")
    parser.add_argument("--database-url", default=None, help="默认读取 DATABASE_URL 或 sqlite:///var/credit.db")
    args = parser.parse_args(argv)
    try:
        created, present = migrate(args.database_url)
    except ArgumentError as exc:
        print(f"数据库地址无效：{exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"无法连接数据库：{exc.orig}", file=sys.stderr)
        return 1
    print(f"新建 {len(created)} 张表{('：' + '、'.join(created)) if created else ''}；已有 {len(present)} 张。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
