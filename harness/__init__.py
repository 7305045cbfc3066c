"""Start the assistant's stack on loopback for tests and benchmarks, and talk to it.

One place for every piece the test suite, the benchmarks and the scale-out check start:

* ``harness.paths``    where the project, its venv and the deployment files are;
* ``harness.procs``    free ports, bounded waits, processes with their own session and log;
* ``harness.http``     the one small HTTP client (never raises on an HTTP error status);
* ``harness.rasa``     action server, Rasa server (hardened launcher or plain ``rasa run``), endpoints;
* ``harness.services`` PostgreSQL and Redis from Debian's packages;
* ``harness.nginx``    nginx from Debian's package in front of Rasa servers (``deploy/nginx.conf``);
* ``harness.stacks``   the whole assistant (seeded loan DB, action server, Rasa) in one object;
* ``harness.moodbot``  the bare ``rasa init`` reference bot of the latency benchmark;
* ``harness.loopback`` the one threaded loopback HTTP server the vendor stand-ins are built on;
* ``harness.wechat_api`` a local stand-in for the WeChat Official Account API;
* ``harness.wecom_api`` a local stand-in for WeCom's 微信客服 API and its encrypted callback;
* ``harness.twilio_api`` a local stand-in for Twilio's REST API (outbound calls, answering them);
* ``harness.tencent_sms`` a local stand-in for Tencent Cloud's SMS API 3.0 (signed requests, templates);
* ``harness.calls``    plays a whole telephone call (IVR JSON or Twilio) against a running server.

Nothing here listens beyond 127.0.0.1, every wait is bounded and every process is stopped.
Importing this package starts nothing and imports neither Rasa nor the servers.
"""
