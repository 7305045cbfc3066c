"""The namespaced REST channel against a running Rasa server."""
from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.http_util import assert_clean_error, post, user_texts

pytestmark = pytest.mark.slow


def rest(stack, body: bytes):
    return post(f"{stack.rasa_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"})


def test_rest_conversations_live_under_rest_prefix(stack) -> None:
    sender = f"t-{uuid.uuid4().hex[:12]}"
    reply = rest(stack, json.dumps({"sender": sender, "message": "你们的贷款利息多少"}).encode())
    assert reply.status == 200 and "年化" in "".join(m.get("text", "") for m in json.loads(reply.text))
    assert user_texts(stack, f"rest:{sender}") == ["你们的贷款利息多少"]
    assert user_texts(stack, sender) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[1, 2]", b'"text"', b'{"sender": "u"}', b'{"sender": 1, "message": "hi"}',
     b'{"sender": "u", "message": "hi", "metadata": 3}', "\ud800".encode("utf-8", "surrogatepass")],
)
def test_rest_bad_bodies_get_400(stack, body: bytes) -> None:
    reply = rest(stack, body)
    assert reply.status == 400
    assert_clean_error(reply)
    assert json.loads(reply.text)["error"]["message_zh"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300) | st.dictionaries(st.sampled_from(["sender", "message", "metadata", "x"]),
                                                       st.none() | st.integers() | st.text(max_size=10)
                                                       ).map(lambda d: json.dumps(d).encode()))
def test_rest_random_bodies_never_cause_5xx(stack, body: bytes) -> None:
    reply = rest(stack, body)
    assert reply.status < 500, reply.text[:300]
