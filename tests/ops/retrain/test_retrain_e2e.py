"""End-to-end: the whole weekly cycle on the small fixture project against a running Rasa server.

1. New phrasings that the production model gets wrong go through REST (each followed by a
   request for a human, as an annoyed customer would), are exported, annotated
   programmatically, imported, validated, trained, pass the gate and are promoted into the
   running server (with REST traffic during the switch: no request may fail); the server
   then classifies them correctly.
2. A batch of 36 deliberately mislabelled rows goes the same way, is refused by the gate,
   cannot be promoted, and the server keeps its model.
3. One command rolls back to the first model; the bad batch is undone.

CI uses the small fixture project (trains in ~25 s). The same test on a copy of the real
project (dev model from scripts/model.py as the first production model; ~15-20 minutes):

    OPS_E2E_PROJECT=full .venv/bin/python -m pytest tests/ops/retrain/test_retrain_e2e.py -s

(the real project has no action server here: custom actions fail and are logged, NLU and the
tracker store work as usual; the bad batch is imported with --skip-invalid because a few of
its texts may already exist in the real training data).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from openpyxl import load_workbook

from harness.http import http_json
from harness.procs import free_port, start, wait_until
from ops.project import Project, sha256_file
from ops.retrain.ledger import next_batch, read_ledger
from ops.retrain.train import model_id
from tests.ops.conftest import FIXTURE, ROOT

pytestmark = pytest.mark.slow

FULL = os.environ.get("OPS_E2E_PROJECT") == "full"
TOKEN = "ops-e2e-token"
CACHE = ROOT / "models" / "ops-fixture"
STEP_TIMEOUT_S = 600

# phrasing -> correct intent; the fixture's first model gets every one of them wrong
NEW_PHRASINGS: Dict[str, str] = {
    "单子过了没有": "check_progress",
    "我那笔单子咋样了": "check_progress",
    "能不能跟活人聊": "request_human",
    "揪个小姐姐出来": "request_human",
    "这钱要几个点": "ask_interest_rate",
}
# 36 typical messages with systematically wrong labels (rates -> repayment, progress -> complaint,
# asking for a human -> goodbye)
BAD_LABELS: Dict[str, str] = {
    **{t: "ask_repayment" for t in "利息到底多少 利息多少钱啊 请问一下利息多少 利率是多少呀 利率多少呢 "
       "年化利率是多少呀 年化多少呢 借三万利息多少 借五千利息多少 利息高吗 利息贵吗 利率高不高呀".split()},
    **{t: "complain" for t in "我的申请进度呢 申请进度查下 审核到哪一步了 审核到哪了呀 什么时候到账呢 多久到账啊 "
       "放款了没 放款了吗请问 审批结果出来了没 审批过了吗 申请有结果了吗 进度到哪了".split()},
    **{t: "goodbye" for t in "帮我转人工吧 转人工客服谢谢 我要真人 要真人客服 人工客服在哪里 人工在哪呢 转人工服务吧 "
       "转个人工 客服电话多少呀 客服热线是多少 我要找客服 给我转人工".split()},
}
# on the real project: candidates, of which those the dev model gets wrong are used (at least 3)
FULL_PHRASINGS: Dict[str, str] = {
    "单子过了没有": "check_progress",
    "我这单稳了没": "check_progress",
    "揪个小姐姐出来": "request_human",
    "摇个活人出来": "request_human",
    "喊个能喘气的来": "request_human",
    "这钱要几个点": "ask_interest_rate",
}
TIMINGS: Dict[str, float] = {}


ANALYST, APPROVER = "ops-e2e", "ops-e2e-approver"  # labels and trains / approves: two people
PASSWORD = "Ops-e2e-pass-2026"


class Cycle:
    def __init__(self, project: Project, home: Path) -> None:
        self.project = project
        self.url = ""
        self.env = {**os.environ, "RASA_AUTH_TOKEN": TOKEN, "PYTHONHASHSEED": "0", "XDG_CONFIG_HOME": str(home),
                    "OPS_BCRYPT_ROUNDS": "4"}
        self.env.pop("OPS_TOKEN", None)
        self.env.pop("OPS_CONSOLE_DB", None)

    def login(self, account: str) -> None:
        """`python -m ops login` as that colleague (the first admin made the accounts)."""
        self.ops("login", account, "--password-stdin", stdin=PASSWORD + "\n")

    def ops(self, *args: str, expect: int = 0, stdin: str = "") -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "ops", *args], cwd=self.project.root, env=self.env,
                                input=stdin, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
        TIMINGS[" ".join(args[:1]) + f" #{len(TIMINGS)}"] = round(time.monotonic() - started, 1)
        assert result.returncode == expect, f"ops {' '.join(args)} -> {result.returncode}\n{result.stdout}\n" \
                                            f"{result.stderr[-3000:]}"
        return result

    def rest(self, sender: str, text: str) -> List[Dict]:
        return http_json("POST", f"{self.url}/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=60)

    def intent(self, text: str) -> str:
        return http_json("POST", f"{self.url}/model/parse?token={TOKEN}", {"text": text})["intent"]["name"]

    def live_model_id(self) -> str:
        return http_json("GET", f"{self.url}/status?token={TOKEN}")["model_id"]

    def annotate(self, exported: Path, labels: Dict[str, str], target: Path) -> int:
        wb = load_workbook(exported)
        ws = wb["待标注"]
        header = [c.value for c in ws[1]]
        text_col, intent_col = header.index("文本"), header.index("正确意图")
        done = 0
        for row in ws.iter_rows(min_row=2):
            if row[text_col].value in labels:
                row[intent_col].value = labels[row[text_col].value]
                done += 1
        wb.save(target)
        return done


def _first_model(project: Project) -> None:
    """The first production model, as `scripts/model.py production` would make it (cached)."""
    if FULL:
        from ops.model_cache import dev_model  # cached by the hash of the real project

        started = time.monotonic()
        project.production_model.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(dev_model(), project.production_model)
        TIMINGS["first model (scripts/model.py dev)"] = round(time.monotonic() - started, 1)
        return
    cached = CACHE / f"{project.fingerprint()}.tar.gz"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                        "--data", "data", "--out", str(CACHE), "--fixed-model-name", cached.name[:-len(".tar.gz")]],
                       cwd=project.root, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
                       capture_output=True, timeout=STEP_TIMEOUT_S)
        TIMINGS["first model (rasa train)"] = round(time.monotonic() - started, 1)
    project.production_model.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, project.production_model)


@pytest.fixture
def cycle(tmp_path: Path) -> Iterator[Cycle]:
    root = tmp_path / "assistant"
    if FULL:
        root.mkdir()
        for name in ("config.yml", "domain", "data", "tests/nlu", "docs/intents.md"):
            source, target = ROOT / name, root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    else:
        shutil.copytree(FIXTURE, root)
    (root / "endpoints.yml").write_text('tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "var/tracker.db"\n',
                                        encoding="utf-8")
    (root / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    (root / "var").mkdir()
    project = Project.at(root)
    _first_model(project)
    state = Cycle(project, tmp_path / "xdg")
    state.ops("user", "add", "ops-admin", "--roles", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    state.login("ops-admin")
    state.ops("user", "add", ANALYST, "--roles", "annotator,trainer", "--password-stdin", stdin=PASSWORD + "\n")
    state.ops("user", "add", APPROVER, "--roles", "approver", "--password-stdin", stdin=PASSWORD + "\n")
    port = free_port()
    log = tmp_path / "rasa.log"
    started = time.monotonic()
    proc = start("rasa", [sys.executable, "-m", "rasa", "run", "--model", str(project.production_model),
                          "--enable-api", "--auth-token", TOKEN, "--port", str(port), "--interface", "127.0.0.1",
                          "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
                 state.env, log, cwd=root)
    try:
        state.url = f"http://127.0.0.1:{port}"
        wait_until(lambda: bool(state.live_model_id()), 240, "Rasa server (ops e2e)", proc)
        TIMINGS["server start"] = round(time.monotonic() - started, 1)
        state.env["RASA_URL"] = state.url
        yield state
    finally:
        proc.stop()
        print("\nops e2e timings (s):", json.dumps(TIMINGS, ensure_ascii=False))


def test_weekly_cycle_good_batch_promoted_bad_batch_refused(cycle: Cycle) -> None:
    project = cycle.project
    first_id = cycle.live_model_id()
    assert first_id == model_id(project.production_model)
    phrasings = NEW_PHRASINGS
    if FULL:
        phrasings = {t: i for t, i in FULL_PHRASINGS.items() if cycle.intent(t) != i}
        assert len(phrasings) >= 3, "the dev model already understands the test phrasings"
    before = {text: cycle.intent(text) for text in phrasings}
    assert all(before[t] != intent for t, intent in phrasings.items()), before
    first_batch = next_batch(project)

    # customers say the new phrasings, get a wrong answer and ask for a human
    for number, text in enumerate(phrasings):
        cycle.rest(f"rest:new{number}", text)
        cycle.rest(f"rest:new{number}", "转人工")
    cycle.rest("wx:chat", "你好")

    # export -> annotate -> import -> validate -> train -> evaluate -> promote
    cycle.login(ANALYST)
    cycle.ops("export", "--out", "var/ops/week1")
    exported = project.root / "var" / "ops" / "week1.xlsx"
    exported_texts = {row[1] for row in load_workbook(exported)["待标注"].iter_rows(min_row=2, values_only=True)}
    assert set(phrasings) <= exported_texts and "你好" not in exported_texts and "转人工" not in exported_texts
    assert cycle.annotate(exported, phrasings, project.root / "var" / "ops" / "week1-done.xlsx") == len(phrasings)
    imported = cycle.ops("import", "var/ops/week1-done.xlsx")
    assert f"已导入第 {first_batch} 批" in imported.stdout
    cycle.ops("validate")
    cycle.ops("train")
    good = max(project.candidates_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    verdict = cycle.ops("evaluate")
    assert "通过评估闸门" in verdict.stdout
    report_dir = project.results_dir / good.name[: -len(".tar.gz")]
    assert (report_dir / "report.md").exists() and (report_dir / "confusion_candidate.png").stat().st_size > 0

    failures: List[str] = []
    served = 0
    stop = threading.Event()

    def traffic() -> None:
        nonlocal served
        while not stop.is_set():
            try:
                reply = cycle.rest("rest:traffic", "利息多少")
                assert reply or FULL  # (full project without action server: custom actions answer nothing)
                served += 1
            except Exception as e:  # any failed request during the switch is downtime
                failures.append(repr(e))
            time.sleep(0.1)

    assert "需要审批人角色" in cycle.ops("promote", expect=1).stderr  # the analyst cannot approve
    cycle.login(APPROVER)
    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        cycle.ops("promote")
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not failures and served > 0
    promoted_id = model_id(good)
    assert cycle.live_model_id() == promoted_id
    assert {text: cycle.intent(text) for text in phrasings} == phrasings
    production_sha = sha256_file(project.production_model)

    # week 2: deliberately bad annotations are refused by the gate
    for number, text in enumerate(BAD_LABELS):
        cycle.rest(f"web:bad{number}", text)
    cycle.login(ANALYST)
    cycle.ops("export", "--all", "--out", "var/ops/week2")
    assert cycle.annotate(project.root / "var" / "ops" / "week2.xlsx", BAD_LABELS,
                          project.root / "var" / "ops" / "week2-done.xlsx") == len(BAD_LABELS)
    bad_batch = next_batch(project)
    bad = cycle.ops("import", "var/ops/week2-done.xlsx", *(["--skip-invalid"] if FULL else []))
    assert f"已导入第 {bad_batch} 批" in bad.stdout
    assert len(read_ledger(project)) - len(phrasings) >= 30 + (0 if FULL else 6)
    cycle.ops("train")
    refused = cycle.ops("evaluate", expect=1)
    assert "拒绝上线" in refused.stdout and f"本次评估的批次 [{bad_batch}] 不在其中" in refused.stderr
    cycle.login(APPROVER)
    blocked = cycle.ops("promote", expect=1)
    assert "没有通过评估闸门" in blocked.stderr
    assert cycle.live_model_id() == promoted_id and sha256_file(project.production_model) == production_sha
    assert {text: cycle.intent(text) for text in phrasings} == phrasings

    # one command rolls back to the first model; the bad batch is undone
    cycle.ops("rollback")
    assert cycle.live_model_id() == first_id
    assert {text: cycle.intent(text) for text in phrasings} == before
    cycle.login(ANALYST)
    cycle.ops("undo-import", "--batch", str(bad_batch))
    status = cycle.ops("status").stdout
    assert f"第 {first_batch} 批：{len(phrasings)} 条，待上线" in status
    assert f"第 {bad_batch} 批：" not in status and f"撤销第 {bad_batch} 批" in status
