"""python -m credit.migrate (the Kubernetes migration Job): every table, no rows, idempotent, clear errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tests.deploy import k8s


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=k8s.ROOT, capture_output=True, text=True, timeout=120)


def test_migrate_creates_the_schema_the_seed_makes_and_writes_no_rows(tmp_path: Path) -> None:
    migrated, seeded = f"sqlite:///{tmp_path / 'migrated.db'}", f"sqlite:///{tmp_path / 'seeded.db'}"
    first = run("credit.migrate", "--database-url", migrated)
    assert first.returncode == 0, first.stderr
    assert run("credit.seed", "--database-url", seeded).returncode == 0
    tables = sa.inspect(sa.create_engine(migrated)).get_table_names()
    assert set(sa.inspect(sa.create_engine(seeded)).get_table_names()) <= set(tables)
    assert f"新建 {len(tables)} 张表" in first.stdout
    with sa.create_engine(migrated).connect() as conn:
        rows = {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
    assert set(rows.values()) == {0}, rows  # no demo customers in a production database
    again = run("credit.migrate", "--database-url", migrated)
    assert again.returncode == 0 and "新建 0 张表" in again.stdout and f"已有 {len(tables)} 张" in again.stdout


def test_migrate_says_what_is_wrong_with_a_bad_address() -> None:
    bad = run("credit.migrate", "--database-url", "not a url")
    assert bad.returncode == 2 and "数据库地址无效" in bad.stderr and "Traceback" not in bad.stderr
    down = run("credit.migrate", "--database-url", "postgresql+psycopg2://u:p@127.0.0.1:9/credit")
    assert down.returncode == 1 and "无法连接数据库" in down.stderr and "Traceback" not in down.stderr
