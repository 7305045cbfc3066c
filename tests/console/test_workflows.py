"""Inbox, training data, PIPL requests and the `python -m ops user` verbs, over real HTTP and the real CLI."""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3

from ops.project import Project
from ops.retrain.inbox import Item, group
from ops.retrain.ledger import read_ledger, read_log
from tests.console.conftest import APPLICATION, KIN_PHONE, OPENID, PASSWORD, PHONE, PII_RAW, Console

SINCE = (dt.date.today() - dt.timedelta(days=5)).isoformat()


def _group_fields(page: str, text: str, intent: str) -> list:
    """The form fields the inbox page holds for the group showing `text`, with `intent` chosen."""
    for row in re.findall(r'<tr class="group" data-group="(\w+)">(.*?)</tr>', page, re.S):
        gid, body = row
        if text in body:
            texts = re.findall(rf'name="text-{gid}" value="([^"]*)"', body)
            import html

            return [("group", gid), (f"intent-{gid}", intent)] + [(f"text-{gid}", html.unescape(t)) for t in texts]
    raise AssertionError(f"{text} not in the inbox")


def test_similar_messages_form_one_group() -> None:
    items = [Item(str(i), t, "x", 0.3, [], 1, ["rest"]) for i, t in enumerate(["我的申请进度呢", "我的申请进度呢？？",
                                                                              "申请进度查一下", "你们利息多少"])]
    groups = group(items)
    assert [len(g.items) for g in groups] == [2, 1, 1] or [len(g.items) for g in groups] == [3, 1]


def test_inbox_labels_go_through_the_ledger_and_contradictions_are_shown(console: Console) -> None:
    anno = console.client("anno")
    page = anno.get(f"/inbox?since={SINCE}").text
    assert "单子过了没有" in page and "138****5678" in page
    for raw in PII_RAW:
        assert raw not in page
    # a contradiction with the training data: refused like `ops import` refuses it, nothing written
    project = Project.at(console.root)
    known = next(e for e in project.training_examples() if e.intent == "greet")
    conflict = anno.post(f"/inbox/label?since={SINCE}", [("group", "g1"), ("intent-g1", "complain"),
                                                         ("text-g1", known.text)])
    assert conflict.status == 400 and "与现有训练数据矛盾" in conflict.text and "没有写入任何数据" in conflict.text
    assert read_ledger(project) == []
    fields = _group_fields(page, "单子过了没有", "check_progress") + _group_fields(page, "这钱要几个点",
                                                                               "ask_interest_rate")
    ok = anno.post(f"/inbox/label?since={SINCE}", fields)
    assert ok.status == 200 and "已导入第 1 批：2 条" in ok.text
    ledger = read_ledger(project)
    assert {(c.text, c.intent, c.by) for c in ledger} == {("单子过了没有", "check_progress", "anno"),
                                                         ("这钱要几个点", "ask_interest_rate", "anno")}
    assert read_log(project)[-1]["origin"] == "console"
    assert (console.root / "data" / "nlu" / "ops" / "check_progress.yml").exists()
    # skip and "new need" take a group out of the inbox
    page = anno.get(f"/inbox?since={SINCE}").text
    assert "单子过了没有</span>" not in page
    flagged = anno.post(f"/inbox/mark?since={SINCE}", [("decision", "new_need"), ("text", "揪个小姐姐出来")])
    assert "已标记为新需求：1 条" in flagged.text and "揪个小姐姐出来</span>" not in flagged.text
    assert re.search(r'id="new-needs".*<td>揪个小姐姐出来</td><td>anno</td>', flagged.text, re.S)
    skipped = anno.post(f"/inbox/mark?since={SINCE}", [("decision", "skip"), ("text", "能不能跟活人聊")])
    assert "已跳过：1 条" in skipped.text and "能不能跟活人聊</span>" not in skipped.text
    audit = console.client("auditor").get("/audit").text
    assert "标注消息" in audit and "标记新需求" in audit and "跳过消息" in audit


def test_training_data_add_retire_and_history(console: Console) -> None:
    anno = console.client("anno")
    page = anno.get("/data?intent=greet").text
    assert "人工编写" in page and 'id="intent-counts"' in page
    added = anno.post("/data/add", {"text": "早上好呀各位", "intent": "greet"})
    assert "已新增（第 1 批）" in added.text
    found = anno.get("/data?q=早上好呀").text
    assert "早上好呀各位" in found and "运营导入 · 第 1 批 · anno" in found
    retired = anno.post("/data/retire", {"text": "早上好呀各位", "intent": "greet"})
    assert "已下线" in retired.text
    project = Project.at(console.root)
    assert read_ledger(project) == [] and [e["action"] for e in read_log(project)] == ["import", "retire"]
    history = anno.get("/data").text
    assert "下线样本" in history and "导入" in history
    handwritten = next(e for e in project.training_examples() if e.intent == "greet")
    refused = anno.post("/data/retire", {"text": handwritten.text, "intent": "greet"})
    assert refused.status == 400 and "人工编写的样本" in refused.text
    trainer = console.client("trainer")
    assert trainer.get("/data").status == 200 and "只有标注员" in trainer.get("/data").text


def test_pipl_request_needs_a_second_approver(console: Console) -> None:
    approver, second = console.client("approver"), console.client("approver2")
    found = approver.post("/pipl/search", {"lookup": APPLICATION})
    assert found.status == 200 and "wx:c3" in found.text and "王某" in found.text and "王小明" not in found.text
    by_phone = approver.post("/pipl/search", {"lookup": PHONE})
    assert "wx:c3" in by_phone.text and PHONE not in by_phone.text
    unverified = approver.post("/pipl/request", {"lookup": APPLICATION, "kind": "export", "reason": "客户来电"})
    assert unverified.status == 400 and "核实" in unverified.text
    filed = approver.post("/pipl/request", {"lookup": APPLICATION, "kind": "export", "reason": "客户来电 TK1",
                                            "verified": "yes"})
    assert "已提交第 1 号申请" in filed.text
    own = approver.post("/pipl/decide", {"id": "1", "decision": "approve"})
    assert own.status == 400 and "申请人不能批准自己的申请" in own.text
    done = second.post("/pipl/decide", {"id": "1", "decision": "approve"})
    assert "已导出 2 段对话" in done.text and "1 条通知" in done.text
    bundle = second.get("/pipl/1.json").text
    assert "wx:c3" in bundle and "138****5678" in bundle
    for raw in PII_RAW + [PHONE, OPENID, KIN_PHONE, "王大明"]:
        assert raw not in bundle
    outreach = json.loads(bundle)["outreach"]  # what outreach holds about 王小明, masked; nothing of 赵六
    assert [(p["channel"], p["address"]) for p in outreach["contact_points"]] == [("sms", "139****5678"),
                                                                                  ("wechat", "o_co****ngxm")]
    assert [(c["channel"], c["subscribed"], c["state"]) for c in outreach["consents"]] == [
        ("sms", False, "已退订"), ("wechat", True, "接收通知")]
    assert outreach["emergency_contacts"] == [{"name": "王某", "relation": "兄弟", "phone": "137****1111"}]
    [notice] = outreach["notices"]
    assert (notice["kind"], notice["name"], notice["subject"], notice["status"], notice["channel"]) == (
        "application_approved", "审批通过", APPLICATION, "sent", "wechat") and notice["sent_at"]
    assert [(a["outcome"], a["channel"]) for a in outreach["notice_attempts"]] == [("failed", "sms"),
                                                                                  ("sent", "wechat")]
    # delete: the conversations leave the tracker store, after a second approver
    approver.post("/pipl/request", {"lookup": PHONE, "kind": "delete", "reason": "客户要求删除", "verified": "yes"})
    count = (lambda: sqlite3.connect(console.tracker).execute(  # noqa: E731
        "SELECT count(*) FROM events WHERE sender_id IN ('wx:c3', 'wx:c4')").fetchone()[0])
    assert count() > 0
    deleted = second.post("/pipl/decide", {"id": "2", "decision": "approve"}).text
    assert "已删除 2 段对话" in deleted and "联系方式 2 个、紧急联系人 1 个、通知 1 条（发送记录 2 条）" in deleted
    assert count() == 0
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql
    with create_engine(console.credit_url).connect() as conn:  # the call-back number goes too
        assert conn.execute(sql("SELECT count(*) FROM ticket_contacts")).scalar_one() == 0
        for table in ("contact_points", "emergency_contacts", "outreach_notices"):  # 赵六's stay
            left = conn.execute(sql(f"SELECT c.name FROM {table} t JOIN customers c ON c.id = t.customer_id")).all()
            assert [name for (name,) in left] == ["赵六"], table
        assert conn.execute(sql("SELECT count(*) FROM outreach_attempts")).scalar_one() == 2
    again = second.post("/pipl/decide", {"id": "2", "decision": "approve"})
    assert again.status == 400 and "已经已完成" not in again.text and "不能再次处理" in again.text
    audit = console.client("auditor").get("/audit").text
    for action in ("个人信息查询", "个人信息申请", "批准个人信息申请", "下载个人信息"):
        assert action in audit
    assert APPLICATION not in audit or "SQ" in audit


def test_user_cli_needs_an_admin_once_accounts_exist_and_errors_are_clear(console: Console) -> None:
    # accounts exist: adding one without a login, or as a non-admin, is refused and adds nothing
    anonymous = console.ops("user", "add", "boss", "--roles", "admin", "--password-stdin", stdin="Boss-password-1\n",
                            expect=1)
    assert "请先登录：python -m ops login" in anonymous.stderr
    trainer = console.ops("user", "add", "boss", "--roles", "admin", "--password-stdin", stdin="Boss-password-1\n",
                          expect=1, as_user="trainer")
    assert "无权执行 python -m ops user add：需要管理员角色" in trainer.stderr
    assert "boss" not in console.ops("user", "list", as_user="admin").stdout
    # a real login as the admin, then the verbs
    logged_in = console.ops("login", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert "已登录：admin" in logged_in.stdout and "管理员" in logged_in.stdout
    added = console.ops("user", "add", "boss", "--roles", "admin", "--name", "老板", "--password-stdin",
                        stdin="Boss-password-1\n")
    assert "已新增用户 boss（管理员）" in added.stdout
    boss = console.client()
    boss.login("boss", "Boss-password-1")
    assert boss.get("/users").status == 200 and "老板" in boss.get("/users").text
    listed = console.ops("user", "list").stdout
    assert re.search(r"both\tboth\t训练员、审批人\t正常", listed)
    bad_role = console.ops("user", "add", "eve", "--roles", "root", "--password-stdin", stdin="Eve-password-1\n",
                           expect=1)
    assert "没有角色「root」" in bad_role.stderr
    short = console.ops("user", "add", "eve", "--roles", "auditor", "--password-stdin", stdin="short\n", expect=1)
    assert "密码太短" in short.stderr
    console.ops("user", "roles", "eve2", "--roles", "auditor", expect=1)
    assert "不能去掉自己的管理员角色" in console.ops("user", "roles", "admin", "--roles", "auditor", expect=1).stderr
    assert "不能停用自己" in console.ops("user", "disable", "admin", expect=1).stderr
    both_token = console.token("both")
    console.ops("whoami", token=both_token)
    console.ops("user", "disable", "both")
    fresh = console.client(follow=False)
    fresh.get("/login")
    assert "已停用" in fresh.post("/login", {"username": "both", "password": "Console-pass-2026"}).text
    assert "已被吊销" in console.ops("whoami", token=both_token, expect=1).stderr  # its OPS_TOKEN stopped too
    audit = console.client("auditor").get("/audit").text
    assert "新增用户" in audit and "停用用户" in audit and "命令行登录" in audit and "OPS_TOKEN 令牌" in audit
    console.ops("logout")
    assert "请先登录" in console.ops("user", "list", expect=1).stderr


def test_inbox_shows_the_same_selection_as_ops_export(console: Console) -> None:
    import html

    from openpyxl import load_workbook

    until = dt.date.today().isoformat()
    console.ops("export", "--since", SINCE, "--until", until, "--out", str(console.root / "var" / "ops" / "week"),
                as_user="anno")
    sheet = load_workbook(console.root / "var" / "ops" / "week.xlsx")["待标注"]
    exported = {row[1].lstrip("'") if row[1].startswith("'") and row[1][1:2] in "=+-@" else row[1]
                for row in sheet.iter_rows(min_row=2, values_only=True)}
    page = console.client("anno").get(f"/inbox?since={SINCE}&until={until}").text
    shown = {html.unescape(t) for t in re.findall(r'<span class="text">([^<]*)</span>', page)}
    assert shown == exported and len(shown) >= 10


def test_a_refused_gate_shows_its_reasons_and_cannot_be_promoted(console: Console) -> None:
    import hashlib

    project = Project.at(console.root)
    project.candidates_dir.mkdir(parents=True)
    model = project.candidates_dir / "cand-bad.tar.gz"
    model.write_bytes(b"not really a model")
    (project.candidates_dir / "cand-bad.json").write_text(json.dumps({"batch": 1, "by": "trainer"}))
    report = project.results_dir / "cand-bad" / "report.md"
    report.parent.mkdir(parents=True)
    report.write_text("# 评估报告\n\n## 各意图 F1\n\n| 意图 | 生产 F1 | 候选 F1 |\n|---|---:|---:|\n"
                      "| check_progress | 95.0 | 60.0 |\n| <b>x</b> \\| y | 1 | 2 |\n", encoding="utf-8")
    gate = {"passed": False, "reasons": ["业务意图 check_progress 变差：F1 从 95.0 降到 60.0"], "notes": [],
            "macro_f1": {"production": 0.95, "candidate": 0.6}, "report": project.rel(report),
            "regression_set": {"n": 35, "judged_batches": [1]},
            "candidate_sha256": hashlib.sha256(model.read_bytes()).hexdigest()}
    (project.candidates_dir / "cand-bad.gate.json").write_text(json.dumps(gate, ensure_ascii=False))
    page = console.client("trainer").get("/models?candidate=cand-bad").text
    assert "未通过评估闸门，拒绝上线" in page and "业务意图 check_progress 变差" in page
    assert "<td>check_progress</td><td>95.0</td><td>60.0</td>" in page and "&lt;b&gt;x&lt;/b&gt; | y" in page
    approver = console.client("approver")
    assert "btn-promote" not in approver.get("/models").text  # no button for a refused candidate
    refused = approver.post("/models/promote", {"candidate": "cand-bad"})
    assert refused.status == 400 and "没有通过评估闸门，拒绝上线" in refused.text.split("<h1>")[0]
    bad_name = approver.post("/models/promote", {"candidate": "../../etc/passwd"})
    assert bad_name.status == 400 and "不合法" in bad_name.text
