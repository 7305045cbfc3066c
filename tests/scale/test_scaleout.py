"""Scale-out as in production: two Rasa servers behind nginx, Redis lock store,
PostgreSQL tracker store and loan database, one action server (Debian packages, loopback).
One conversation alternating between the servers stays consistent (forms, slots, order),
simultaneous messages of one conversation on two servers are serialised, and concurrent
conversations lose nothing.  About 1-2 minutes; the same check is `python -m bench.scaleout`.
"""
from __future__ import annotations

import os
import shutil

import pytest

from bench.scaleout import run_scaleout
from harness.services import postgres_bin

pytestmark = pytest.mark.slow


def test_two_rasa_servers_behind_nginx_stay_consistent(model_path) -> None:
    missing = [name for name, found in (("postgresql", postgres_bin()), ("redis-server", shutil.which("redis-server")),
                                        ("nginx", shutil.which("nginx") or os.path.exists("/usr/sbin/nginx") or None))
               if not found]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing Debian packages: {' '.join(missing)} (scripts/system_deps.sh)")
        pytest.skip(f"missing Debian packages: {' '.join(missing)} (scripts/system_deps.sh installs them)")
    report = run_scaleout(model_path, servers=2, conversations=20, concurrency=20)
    print("\n".join(report["log"]))
    assert report["ok"], report["problems"]
