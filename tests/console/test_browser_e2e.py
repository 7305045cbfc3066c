"""The whole cycle in a real headless Chromium (Debian's, driven by Playwright) on the fixture project,
against a real Rasa server:

1. an annotator labels five messages from the 未识别问题 inbox;
2. a user holding both trainer and approver roles trains (train + evaluate run as a background job);
3. the gate report is in the page;
4. that user is refused when promoting their own candidate — in the page and with `python -m ops promote`;
5. a different approver promotes; 6. the running Rasa serves the new model; 7. rollback.
Customer markup stays inert on every page (no script runs), nothing is fetched from outside the
console. The README screenshots are taken on the way (docs/img/console-*.png when
OPS_CONSOLE_SCREENSHOTS=1, otherwise into the test's tmp dir):

    OPS_CONSOLE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/console/test_browser_e2e.py
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from harness.http import http_json
from harness.paths import ROOT
from harness.procs import free_port
from harness.rasa import start_rasa, wait_rasa
from ops.project import Project
from ops.retrain.train import model_id
from tests.console.conftest import PASSWORD, XSS, Console, add_accounts, make_project, start_console

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "console-e2e-token"
CACHE = ROOT / "models" / "ops-fixture"
# README screenshots: OPS_CONSOLE_SCREENSHOTS=1 writes them to docs/img (otherwise to the test's tmp dir)
DOCS_IMG = ROOT / "docs" / "img"
LABELS: Dict[str, str] = {
    "单子过了没有": "check_progress", "我那笔单子咋样了": "check_progress", "能不能跟活人聊": "request_human",
    "揪个小姐姐出来": "request_human", "这钱要几个点": "ask_interest_rate",
}
JOB_TIMEOUT_MS = 900_000


def _first_model(project: Project) -> None:
    cached = CACHE / f"{project.fingerprint()}.tar.gz"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                        "--data", "data", "--out", str(CACHE), "--fixed-model-name", cached.name[:-len(".tar.gz")]],
                       cwd=project.root, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
                       capture_output=True, timeout=900)
    project.production_model.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, project.production_model)


def _rasa(url: str, path: str, body: Any = None) -> Any:
    return http_json("GET" if body is None else "POST", f"{url}{path}", body, timeout=120)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Console]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run scripts/system_deps.sh (apt-get install chromium)")
    console = make_project(tmp_path)
    project = Project.at(console.root)
    _first_model(project)
    port = free_port()
    rasa = start_rasa(project.production_model, port, console.root / "endpoints.yml", console.env,
                      tmp_path / "rasa.log", TOKEN, hardened=False, credentials=console.root / "credentials.yml",
                      wait=False, cwd=console.root)
    console.procs.append(rasa)
    try:
        rasa_url = f"http://127.0.0.1:{port}"
        wait_rasa(rasa_url, TOKEN, rasa, 300)
        console.env.update({"RASA_URL": rasa_url, "RASA_AUTH_TOKEN": TOKEN})
        add_accounts(console)
        start_console(console, tmp_path)
        yield console
    finally:
        for proc in console.procs:
            proc.stop(timeout=15)


def _login(context: Any, base: str, user: str) -> Any:
    context.clear_cookies()
    page = context.new_page()
    page.goto(f"{base}/")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("header nav")
    return page


def _wait_job(page: Any) -> str:
    page.wait_for_selector('#job-log[data-state="done"], #job-log[data-state="failed"]', timeout=JOB_TIMEOUT_MS)
    return page.get_attribute("#job-log", "data-state")


def test_label_train_refuse_promote_rollback_in_a_real_browser(stack: Console, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base = stack.url
    rasa_url = stack.env["RASA_URL"]
    project = Project.at(stack.root)
    first_id = _rasa(rasa_url, f"/status?token={TOKEN}")["model_id"]
    # customers say the new phrasings (the first model gets them wrong), then ask for a human
    for number, text in enumerate(LABELS):
        _rasa(rasa_url, "/webhooks/rest/webhook", {"sender": f"new{number}", "message": text})
        _rasa(rasa_url, "/webhooks/rest/webhook", {"sender": f"new{number}", "message": "转人工"})
    _rasa(rasa_url, "/webhooks/rest/webhook", {"sender": "xss", "message": XSS[1]})
    _rasa(rasa_url, "/webhooks/rest/webhook", {"sender": "xss", "message": "转人工"})
    before = {t: _rasa(rasa_url, f"/model/parse?token={TOKEN}", {"text": t})["intent"]["name"] for t in LABELS}
    assert all(before[t] != i for t, i in LABELS.items()), before
    img = DOCS_IMG if os.environ.get("OPS_CONSOLE_SCREENSHOTS") == "1" else tmp_path / "img"
    img.mkdir(parents=True, exist_ok=True)
    outside: List[str] = []
    dialogs: List[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900})
        context.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
        context.on("page", lambda p: p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
        try:
            # 1. the annotator labels five messages
            page = _login(context, base, "anno")
            page.goto(f"{base}/inbox")
            for text, intent in LABELS.items():
                page.locator("tr.group", has_text=text).locator("select.intent").select_option(intent)
            page.screenshot(path=str(img / "console-inbox.png"), full_page=True)
            page.click("#save-labels")
            page.wait_for_selector(".msg.notice")
            assert "已导入第 1 批：5 条" in page.inner_text(".msg.notice")
            for text in LABELS:
                assert page.locator("tr.group", has_text=text).count() == 0
            assert page.evaluate("() => window.__xss") is None

            # 2-3. a trainer (who is also an approver) trains; the gate report is in the page
            page = _login(context, base, "both")
            page.goto(f"{base}/models")
            page.click("#btn-train")
            # live progress: the page shows the job's output while it runs
            # (the models page before the redirect has no job log yet: wait for the one after it)
            page.wait_for_function("() => (document.getElementById('job-log') || {textContent: ''})"
                                   ".textContent.includes('开始训练候选模型')",
                                   timeout=120_000)
            assert page.get_attribute("#job-log", "data-state") == "running"
            assert _wait_job(page) == "done", page.inner_text("#job-log")
            page.goto(f"{base}/models")
            assert "通过评估闸门" in page.inner_text("#gate-verdict")
            assert page.locator("#gate-report table.report-table").count() >= 2
            assert page.locator("#gate-report img").count() == 2
            page.screenshot(path=str(img / "console-gate-report.png"), full_page=True)

            # 4. ... but cannot promote their own candidate: in the page ...
            page.click(".btn-promote")
            page.wait_for_selector(".msg.error")
            assert "四眼原则" in page.inner_text(".msg.error")
            page.screenshot(path=str(img / "console-four-eyes.png"))
            assert _rasa(rasa_url, f"/status?token={TOKEN}")["model_id"] == first_id
            # ... nor on the command line
            refused = stack.ops("promote", as_user="both", expect=1)
            assert "四眼原则" in refused.stderr
            assert _rasa(rasa_url, f"/status?token={TOKEN}")["model_id"] == first_id

            # 5-6. a different approver promotes; the running Rasa serves the new model
            candidate = max(project.candidates_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
            page = _login(context, base, "approver")
            page.goto(f"{base}/models")
            page.click(".btn-promote")
            assert _wait_job(page) == "done", page.inner_text("#job-log")
            assert _rasa(rasa_url, f"/status?token={TOKEN}")["model_id"] == model_id(candidate)
            after = {t: _rasa(rasa_url, f"/model/parse?token={TOKEN}", {"text": t})["intent"]["name"] for t in LABELS}
            assert after == LABELS

            # 7. rollback
            page.goto(f"{base}/models")
            page.click("#btn-rollback")
            assert _wait_job(page) == "done", page.inner_text("#job-log")
            assert _rasa(rasa_url, f"/status?token={TOKEN}")["model_id"] == first_id
            page.goto(f"{base}/models")
            page.screenshot(path=str(img / "console-models.png"), full_page=True)

            # the auditor sees the dashboard (charts drawn by the vendored ECharts), transcripts, the audit log
            page = _login(context, base, "auditor")
            since = (dt.date.today() - dt.timedelta(days=1)).isoformat()
            page.goto(f"{base}/dashboard?since={since}")
            page.wait_for_selector("body[data-charts=ready]")
            assert page.locator(".chart canvas").count() >= 3
            page.screenshot(path=str(img / "console-dashboard.png"), full_page=True)
            page.goto(f"{base}/conversations?since={since}")
            page.click("a[href='/conversations/view?id=xss']")
            page.wait_for_selector("#transcript")
            assert "onerror" in page.inner_text("#transcript") and page.evaluate("() => window.__xss") is None
            page.screenshot(path=str(img / "console-conversation.png"), full_page=True)
            page.goto(f"{base}/audit")
            audit_text = page.inner_text("#audit")
            for action in ("标注消息", "启动任务", "上线被拒", "上线", "回滚", "查看对话"):
                assert action in audit_text
        finally:
            context.close()
            browser.close()
    assert not outside, outside
    assert not dialogs, dialogs
