"""REST body validation, web chat transcript/payloads and the shared state store, in process."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from connectors.http import ChannelError
from connectors.rest import parse_body
from connectors.state import StateStore
from connectors.webchat.channel import STATIC_DIR, bot_payload, transcript


def test_rest_sender_is_namespaced() -> None:
    parsed = parse_body(json.dumps({"sender": "wx:oABC", "message": "你好"}).encode())
    assert parsed["sender"] == "rest:wx:oABC"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"nope",
        b"[]",
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "a b", "message": "hi"}',
        b'{"sender": ["x"], "message": "hi"}',
        b'{"sender": "u1"}',
        b'{"sender": "u1", "message": 5}',
        b'{"sender": "u1", "message": "hi", "metadata": "x"}',
        json.dumps({"sender": "u1", "message": "长" * 5000}).encode(),
    ],
)
def test_rest_bad_bodies_are_400(body: bytes) -> None:
    with pytest.raises(ChannelError) as error:
        parse_body(body)
    assert error.value.status == 400


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200)
       | st.dictionaries(st.text(max_size=8), st.text(max_size=8)).map(lambda d: json.dumps(d).encode()))
def test_rest_random_bodies_never_crash(body: bytes) -> None:
    try:
        parse_body(body)
    except ChannelError as error:
        assert error.status == 400


def test_webchat_payload_is_rasa_socketio_shaped_and_hides_handoff_summary() -> None:
    payload = bot_payload(
        {"text": "请选择", "buttons": [{"title": "查询进度", "payload": "/check_progress"}], "utter_action": "x"}
    )
    assert payload == {
        "text": "请选择",
        "quick_replies": [{"content_type": "text", "title": "查询进度", "payload": "/check_progress"}],
    }
    handoff = bot_payload({"custom": {"type": "handoff", "queue": "complaint", "summary": "内部摘要"}})
    assert handoff == {"handoff": {"queue": "complaint"}}
    assert bot_payload({"custom": {"type": "other"}}) is None


def test_webchat_transcript_shows_the_current_session() -> None:
    buttons = [{"title": "查询进度", "payload": "/check_progress"}]
    events = [
        UserUttered("旧会话"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("/greet"),
        BotUttered("您好", {"buttons": buttons}),
        UserUttered("/check_progress"),
        BotUttered("请提供申请编号"),
        UserUttered("SQ202611200001"),
    ]
    items = transcript(events)
    assert items == [
        {"sender": "bot", "text": "您好", "quick_replies": [
            {"content_type": "text", "title": "查询进度", "payload": "/check_progress"}]},
        {"sender": "user", "text": "查询进度"},
        {"sender": "bot", "text": "请提供申请编号"},
        {"sender": "user", "text": "SQ202611200001"},
    ]


def test_webchat_page_is_self_contained() -> None:
    names = {p.name for p in STATIC_DIR.iterdir()}
    assert {"index.html", "webchat.js", "webchat.css", "socket.io.min.js", "socket.io-client.LICENSE"} <= names
    for name in ("index.html", "webchat.js", "webchat.css"):
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text, name
    head = (STATIC_DIR / "socket.io.min.js").read_text(encoding="utf-8")[:200]
    assert "Socket.IO v4." in head and "MIT License" in head
    assert "sourceMappingURL" not in (STATIC_DIR / "socket.io.min.js").read_text(encoding="utf-8")
    assert 'lang="zh-CN"' in (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def test_state_store_claim_is_atomic_across_connections(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    winners = []

    def claim() -> None:
        if StateStore(path).claim("k", {"state": "processing"}, 60):
            winners.append(1)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    store = StateStore(path)
    assert store.compare_and_set("k", {"state": "processing"}, {"state": "async"}, 60)
    assert not store.compare_and_set("k", {"state": "processing"}, {"state": "passive"}, 60)
    assert store.get("k") == {"state": "async"}
    store.set("gone", 1, ttl=-1)
    assert store.get("gone") is None and store.claim("gone", 2, 60)


def test_webchat_csp_allows_only_configured_frame_ancestors() -> None:
    from connectors.webchat.channel import security_headers

    csp = security_headers("https://www.lender.cn javascript:alert(1) https://m.lender.cn:8443")["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.lender.cn https://m.lender.cn:8443;" in csp
    assert "javascript" not in csp and "script-src 'self';" in csp
