"""微信客服 (WeCom kf) channel tests against the local WeCom stand-in (harness/wecom_api.py)."""
