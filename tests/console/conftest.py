"""Console fixtures: a copy of the ops fixture project, a seeded SQLite tracker store and credit
database, accounts for every role, and the real console server (`python -m ops serve`) on loopback."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from harness.http import http
from harness.paths import ROOT
from harness.procs import Proc, free_port, start, wait_until
from tests.console.client import Client
from tests.ops.conftest import FIXTURE, Conversation, make_tracker_db

PASSWORD = "Console-pass-2026"
os.environ.setdefault("OPS_BCRYPT_ROUNDS", "4")  # cheap hashes for the test accounts (production: 12)
# account -> roles
ACCOUNTS: Dict[str, str] = {
    "admin": "admin", "anno": "annotator", "trainer": "trainer", "approver": "approver", "auditor": "auditor",
    "both": "trainer,approver", "approver2": "approver", "agent": "agent",
}
XSS = ["<script>window.__xss=1</script>利息多少", "<img src=x onerror=\"window.__xss=1\">进度呢",
       "<a href=\"javascript:window.__xss=1\">点我</a>转人工"]
PII_TEXT = "我叫张三丰，身份证110101199003071234，手机13812345678，卡号6222021234567890123"
PII_RAW = ["张三丰", "110101199003071234", "13812345678", "6222021234567890123"]
FORMULA = ["=HYPERLINK(\"http://x\")", "+1+1 怎么还款", "-2+3 利率", "@SUM(A1) 还款"]
APPLICATION = "SQ202611010001"
PHONE = "13912345678"
OPENID = "o_console_openid_wangxm"  # the customer's bound WeChat account (outreach contact point)
KIN_PHONE = "13700001111"  # the emergency contact they named


def day_ts(days_ago: int, hour: int = 10) -> float:
    day = dt.date.today() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour)).timestamp()


def seed_tracker(db: Path) -> None:
    """Conversations over four days and three channels, with fallbacks, handoffs, complaints, XSS, PII."""
    make_tracker_db(db)
    C = Conversation
    C(db, "rest:c1", day_ts(3)).user("利息多少", "ask_interest_rate", 0.95).action("utter_rate").bot("年化利率…").save()
    C(db, "rest:c2", day_ts(3, 11)).user(XSS[0], "ask_interest_rate", 0.41).user("转人工", "request_human", 0.97) \
        .action("action_handoff").bot("正在转人工", {"type": "handoff"}).save()
    C(db, "wx:c3", day_ts(2)).user(PII_TEXT, "nlu_fallback", 0.2,
                                   [{"name": "nlu_fallback", "confidence": 0.7},
                                    {"name": "ask_repayment", "confidence": 0.2}]) \
        .action("action_default_fallback").user("怎么还款", "ask_repayment", 0.9).save()
    C(db, "wx:c4", day_ts(2, 12)).user(XSS[1], "check_progress", 0.35).user("我要投诉", "complain", 0.93).save()
    C(db, "web:c5", day_ts(1)).user(XSS[2], "nlu_fallback", 0.3).action("action_default_fallback") \
        .user("点我转人工", "request_human", 0.8).action("action_handoff").save()
    C(db, "web:c6", day_ts(1, 15)).bot("您好，我是智能客服").save()  # welcome only: no customer message
    C(db, "rest:c7", day_ts(0, 9)).user(FORMULA[0], "nlu_fallback", 0.1).action("action_default_fallback") \
        .user(FORMULA[1], "ask_repayment", 0.5).user(FORMULA[2], "ask_interest_rate", 0.45) \
        .user(FORMULA[3], "ask_repayment", 0.42).save()
    C(db, "rest:c8", day_ts(0, 10)).user("进度怎么样", "check_progress", 0.88).save()  # complaint ticket (credit db)
    C(db, "rest:c9", day_ts(0, 11)).user("谢谢", "thank", 0.99).save()  # handoff row in the credit db
    C(db, "rest:old", day_ts(30)).user("很久以前", "greet", 0.99).save()  # outside every period used
    unknown = ["单子过了没有", "我那笔单子咋样了", "能不能跟活人聊", "揪个小姐姐出来", "这钱要几个点"]
    for number, text in enumerate(unknown):
        C(db, f"rest:new{number}", day_ts(0, 12 + number)).user(text, "goodbye", 0.3) \
            .user("转人工", "request_human", 0.95).action("action_handoff").save()


def seed_credit(url: str) -> None:
    from credit.db.engine import get_engine, init_db, session_scope
    from credit.db.identity import Verification
    from credit.db.loans import Application, Customer
    from credit.db.outreach import ContactPoint, EmergencyContact, OutreachAttempt, OutreachNotice
    from credit.db.tickets import Handoff, RiskEvent, Ticket, TicketContact

    engine = get_engine(url)
    init_db(engine)
    now = dt.datetime.now(dt.timezone.utc)
    at = (lambda days, hour=10: dt.datetime.fromtimestamp(day_ts(days, hour), dt.timezone.utc))  # noqa: E731
    with session_scope(engine) as s:
        customer = Customer(name="王小明", id_last4="1234", id_number_masked="110***********1234", phone=PHONE)
        s.add(customer)
        s.flush()
        s.add(Application(application_id=APPLICATION, customer_id=customer.id, product="suixinjie", amount=10000,
                          term=12, stage="reviewing", submitted_at=at(5), stage_updated_at=at(5)))
        s.add(Verification(sender_id="wx:c3", application_id=APPLICATION, level="basic", method="id_last4",
                           created_at=at(2), expires_at=at(2) + dt.timedelta(hours=1)))
        s.add(Ticket(number="TK202611300001", kind="complaint", category="fee", detail="收费不合理",
                     sender_id="rest:c8",
                     application_id=None, status="open", sla_hours=24, due_at=now + dt.timedelta(hours=5),
                     created_at=at(0, 10)))
        slow = Ticket(number="TK202611300002", kind="complaint", category="slow", detail="太慢", sender_id="wx:c4",
                      application_id=APPLICATION, status="open", sla_hours=24, due_at=now - dt.timedelta(hours=2),
                      created_at=at(2, 12))
        s.add(slow)
        s.flush()
        s.add(TicketContact(ticket_id=slow.id, phone=PHONE, created_at=at(2, 12)))
        s.add(Ticket(number="TK202611300003", kind="callback", category=None, detail="回电", sender_id="rest:c1",
                     status="closed", sla_hours=48, due_at=now + dt.timedelta(hours=30), created_at=at(3)))
        s.add(Handoff(sender_id="rest:c9", channel="rest", queue="general", summary="谢谢", created_at=at(0, 11)))
        s.add(RiskEvent(sender_id="web:c5", kind="urgent_need", text="急用钱", created_at=at(1)))
        s.add(RiskEvent(sender_id="wx:c3", kind="fraud_report", text="被骗了", created_at=at(2)))
        s.add(RiskEvent(sender_id="rest:c7", kind="urgent_need", text="急", created_at=at(0, 9)))
        # outreach: the customer's contacts and consents (SMS 退订), whom they named, a notice and its attempts;
        # and another customer's, which a request about 王小明 never touches
        other = Customer(name="赵六", id_last4="9999", id_number_masked="110***********9999", phone="13600009999")
        s.add(other)
        s.flush()
        for owner, channel, address, subscribed in ((customer, "sms", PHONE, False),
                                                    (customer, "wechat", OPENID, True),
                                                    (other, "sms", "13600009999", True)):
            s.add(ContactPoint(customer_id=owner.id, channel=channel, address=address, verified=True,
                               subscribed=subscribed, changed_at=at(1)))
        s.add(EmergencyContact(customer_id=customer.id, name="王大明", relation="兄弟", phone=KIN_PHONE))
        s.add(EmergencyContact(customer_id=other.id, name="赵七", relation="父亲", phone="13600001111"))
        for owner, subject in ((customer, APPLICATION), (other, "SQ202611010009")):
            notice = OutreachNotice(key=f"application_approved:{subject}", kind="application_approved",
                                    customer_id=owner.id, subject=subject, due_at=at(1), status="sent",
                                    channel="wechat", sent_at=at(1), created_at=at(1), fields="{}")
            s.add(notice)
            s.flush()
            s.add(OutreachAttempt(notice_id=notice.id, at=at(1), worker="w1", channel="sms", outcome="failed",
                                  detail="短信发送失败：Timeout"))
            s.add(OutreachAttempt(notice_id=notice.id, at=at(1), worker="w1", channel="wechat", outcome="sent",
                                  detail="【安信】您的借款申请已审批通过"))
    engine.dispose()


@dataclass
class Console:
    url: str
    root: Path
    tracker: Path
    credit_url: str
    env: Dict[str, str]
    procs: List[Proc] = field(default_factory=list)

    def client(self, account: Optional[str] = None, follow: bool = True) -> Client:
        client = Client(self.url, follow)
        if account:
            reply = client.login(account, PASSWORD)
            assert reply.status in (200, 303) and client.cookie("ops_session"), reply.text[:500]
        return client

    def token(self, account: str) -> str:
        """An OPS_TOKEN for ``account``, as an admin would issue it in the console."""
        from ops.access import tokens
        from ops.project import Project

        return tokens.issue_automation(Project.at(self.root), account, "测试", 1, "admin")[0]

    def ops(self, *args: str, stdin: str = "", expect: int = 0, timeout: float = 600, as_user: str = "",
            token: str = "") -> subprocess.CompletedProcess:
        """`python -m ops <args> --project <root>` (the project option goes last, after any sub-command), as
        ``as_user`` (an OPS_TOKEN issued to it) or with ``token``, else as whoever is logged in (the login file
        under this console's own XDG_CONFIG_HOME), else as no one."""
        env = dict(self.env)
        if as_user or token:
            env["OPS_TOKEN"] = token or self.token(as_user)
        result = subprocess.run([sys.executable, "-m", "ops", *args, "--project", str(self.root)], cwd=ROOT,
                                env=env, input=stdin, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == expect, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr[-3000:]}"
        return result


def make_project(tmp: Path) -> Console:
    root = tmp / "assistant"
    shutil.copytree(FIXTURE, root)
    (root / "endpoints.yml").write_text('tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "var/tracker.db"\n',
                                        encoding="utf-8")
    (root / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    (root / "var").mkdir()
    tracker = root / "var" / "tracker.db"
    credit_url = f"sqlite:///{root / 'var' / 'credit.db'}"
    env = {**os.environ, "DATABASE_URL": credit_url, "PYTHONHASHSEED": "0",  # the project is installed (editable)
           "XDG_CONFIG_HOME": str(tmp / "xdg")}  # the command line's login file: this test's own
    env.pop("OPS_CONSOLE_DB", None)
    env.pop("OPS_TOKEN", None)
    return Console("", root, tracker, credit_url, env)


def start_console(console: Console, tmp: Path, extra_env: Optional[Dict[str, str]] = None) -> Proc:
    port = free_port()
    proc = start(f"console-{port}", [sys.executable, "-m", "ops", "serve", "--project", str(console.root), "--port",
                                     str(port), "--host", "127.0.0.1"],
                 {**console.env, **(extra_env or {})}, tmp / f"console-{port}.log", cwd=ROOT)
    console.procs.append(proc)
    console.url = f"http://127.0.0.1:{port}"
    url = console.url + "/login"
    wait_until(lambda: http("GET", url, timeout=5).status == 200, 60, url, proc, interval=0.3)
    return proc


def add_accounts(console: Console) -> None:
    from ops.access import users
    from ops.project import Project

    project = Project.at(console.root)
    for name, roles in ACCOUNTS.items():
        users.add(project, name, PASSWORD, [roles], by="test")


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    state = make_project(tmp_path)
    seed_tracker(state.tracker)
    seed_credit(state.credit_url)
    add_accounts(state)
    start_console(state, tmp_path)
    try:
        yield state
    finally:
        for proc in state.procs:
            proc.stop(timeout=15)
