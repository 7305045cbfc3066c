"""A channel whose secret is not set is switched off: its webhook answers 404 with a clear
message, a log line says so, and the rest of the assistant keeps working."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bare(start_stack):
    return start_stack({"WECHAT_TOKEN": "", "TWILIO_AUTH_TOKEN": "", "IVR_SHARED_SECRET": "",
                        "WECOM_CORP_ID": "", "WECOM_KF_SECRET": "", "WECOM_TOKEN": "", "WECOM_AES_KEY": ""})


@pytest.mark.parametrize("path,message", [
    ("/webhooks/wechat/webhook", "WECHAT_TOKEN"),
    ("/webhooks/twilio_zh/webhook", "TWILIO_AUTH_TOKEN"),
    ("/webhooks/ivr/webhook", "IVR_SHARED_SECRET"),
    ("/webhooks/wecom_kf/webhook", "WECOM_TOKEN"),
])
def test_channel_without_secret_is_disabled(bare, path, message):
    request = urllib.request.Request(bare.rasa_url + path, data=b"<xml/>", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 404
    assert message in info.value.read().decode()
    with urllib.request.urlopen(bare.rasa_url + path.rsplit("/", 1)[0] + "/", timeout=10) as health:
        assert b"disabled" in health.read()


def test_rest_still_answers_when_other_channels_are_off(bare):
    assert "年化利率" in bare.texts("disabled-check", "利息多少")
