"""The web chat page in a real headless Chromium (Debian's, driven by Playwright):
ask about rates, see the annualised rate and the disclaimer, click a quick reply,
survive a dropped connection, reload and see the history.  Nothing is fetched from
outside the assistant."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from tests.channels.http_util import get, user_texts

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOBILE = {"width": 390, "height": 780}


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run scripts/system_deps.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # fresh user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_FLAGS,
            viewport=MOBILE,
            locale="zh-CN",
        )
        try:
            yield context
        finally:
            context.close()


def test_page_is_served_with_its_assets(stack) -> None:
    page = get(f"{stack.rasa_url}/webchat")
    assert page.status == 200 and "text/html" in page.content_type
    assert '<html lang="zh-CN">' in page.text and "在线客服" in page.text
    for asset in ("webchat.js", "webchat.css", "socket.io.min.js"):
        assert get(f"{stack.rasa_url}/webchat/static/{asset}").status == 200
    assert get(f"{stack.rasa_url}/webchat/static/..%2Fchannel.py").status == 404


def test_chat_in_a_real_browser(stack, browser_context: Any) -> None:
    base = stack.rasa_url
    outside: List[str] = []
    page = browser_context.new_page()
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
    errors: List[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{base}/webchat")
    assert page.get_attribute("#input", "placeholder").startswith("请输入")
    page.wait_for_selector(".row.bot .bubble", timeout=60_000)  # welcome (and privacy notice)

    # the typing indicator shows while the assistant works
    page.evaluate(
        """() => { window.__typingSeen = false;
        new MutationObserver(() => { if (!document.getElementById('typing').hidden) window.__typingSeen = true; })
          .observe(document.getElementById('typing'), {attributes: true}); }"""
    )
    bots_before = page.locator(".row.bot").count()
    page.fill("#input", "你们的贷款利息多少")
    page.press("#input", "Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.row.bot').length > {bots_before}", timeout=60_000)
    page.wait_for_selector(".row.bot .bubble:has-text('年化')", timeout=60_000)
    answer = page.locator(".row.bot .bubble", has_text="年化").last.inner_text()
    assert "以审批结果为准" in answer
    assert page.evaluate("window.__typingSeen") is True
    assert page.locator(".row.user .bubble").last.inner_text() == "你们的贷款利息多少"

    # quick reply button: shown as the customer's message, answered by the assistant
    button = page.locator(".quick-replies button").last
    title = button.inner_text()
    bots_before = page.locator(".row.bot").count()
    button.click()
    page.wait_for_function(f"() => document.querySelectorAll('.row.bot').length > {bots_before}", timeout=60_000)
    assert page.locator(".row.user .bubble").last.inner_text() == title

    # mobile width: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]

    # a dropped connection is shown and recovered from
    page.evaluate("window.__webchat.socket.io.engine.close()")
    page.wait_for_function("() => window.__webchat.ready === true && window.__webchat.socket.connected", timeout=30_000)

    session_id = page.evaluate("window.localStorage.getItem('credit-webchat-session')")
    assert session_id and len(session_id) == 32
    transcript_before = page.locator(".row").all_inner_texts()

    # reload: the same conversation and its history
    page.reload()
    page.wait_for_selector(".row.bot .bubble:has-text('年化')", timeout=60_000)
    page.wait_for_function(f"() => document.querySelectorAll('.row').length >= {len(transcript_before)}",
                           timeout=30_000)
    after = page.locator(".row").all_inner_texts()
    assert "你们的贷款利息多少" in after and title in after
    assert page.evaluate("window.localStorage.getItem('credit-webchat-session')") == session_id

    texts = user_texts(stack, f"web:{session_id}")
    assert "你们的贷款利息多少" in texts and texts.count("你们的贷款利息多少") == 1
    assert outside == [], f"the page fetched from outside the assistant: {outside}"
    assert errors == [], errors


def test_socketio_rejects_bad_messages(stack, browser_context: Any) -> None:
    page = browser_context.new_page()
    page.goto(f"{stack.rasa_url}/webchat")
    page.wait_for_function("() => window.__webchat.ready === true", timeout=60_000)
    page.wait_for_selector(".row.bot .bubble", timeout=60_000)
    page.evaluate(
        "() => { const s = window.__webchat.socket;"
        " s.emit('user_uttered', {message: 'x'.repeat(5000)}); s.emit('user_uttered', 42);"
        " s.emit('user_uttered', {message: {'$gt': ''}}); }"
    )
    page.wait_for_function("() => document.querySelectorAll('.row.system').length >= 3", timeout=30_000)
    notes = page.locator(".row.system").all_inner_texts()
    assert all("消息应为" in n for n in notes)
    session_id = page.evaluate("window.__webchat.sessionId")
    # a malformed session request gets a fresh random session, never an arbitrary id
    page.evaluate("() => window.__webchat.socket.emit('session_request', {session_id: '../../wx:oABC'})")
    page.wait_for_function(f"() => window.__webchat.sessionId && window.__webchat.sessionId !== '{session_id}'",
                           timeout=30_000)
    assert len(page.evaluate("window.__webchat.sessionId")) == 32
