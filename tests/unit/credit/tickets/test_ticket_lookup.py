"""Tickets read back: this conversation's at once, another conversation's only after four check
digits, with one reply for an unknown number and wrong digits; deadlines in Beijing time."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from actions.progress import ActionCheckProgress, ValidateProgressForm
from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.tickets.answers import asks_about_ticket, tickets_answer
from tests.unit.actions.action_kit import DOMAIN, all_text, make_tracker, run, slots_of

CAT = load_catalogue()
SLOTS = ["application_id", "id_last4", "ticket_check"]


def required(tracker) -> list:
    return asyncio.run(ValidateProgressForm().required_slots(SLOTS, CollectingDispatcher(), tracker, DOMAIN))


def check(sender: str, number: str, digits: str):
    tracker = make_tracker(sender=sender, text=digits, active_loop="progress_form",
                           slots={"ticket_number": number, "requested_slot": "ticket_check"})
    dispatcher = CollectingDispatcher()
    result = ValidateProgressForm().validate_ticket_check(digits, dispatcher, tracker, DOMAIN)
    return result, dispatcher.messages


def test_my_ticket_in_this_conversation_is_read_back_with_its_deadline(svc):
    ticket = svc.create_ticket("rest:t1", "complaint", "放款太慢", contact="13812345678", category="slow")
    asking = make_tracker(sender="rest:t1", text="我投诉的处理得怎么样了", intent="check_progress",
                          active_loop="progress_form")
    assert required(asking) == []  # no application number asked for
    messages, events = run(ActionCheckProgress(), asking)
    reply = all_text(messages)
    assert ticket.number in reply and "正在处理中" in reply and "前给您答复" in reply
    assert check_text(reply) == []
    assert slots_of(events)["ticket_number"] is None


def test_no_ticket_here_says_how_to_look_one_up(svc):
    messages, _ = run(ActionCheckProgress(), make_tracker(sender="rest:none", text="我的工单呢",
                                                          intent="check_progress"))
    assert "还没有登记过工单" in all_text(messages) and "TK" in all_text(messages)


def test_own_ticket_by_number_needs_no_check_but_another_conversations_does(svc):
    ticket = svc.create_ticket("rest:owner", "complaint", "收费不清楚", contact="13812345678")
    own = make_tracker(sender="rest:owner", text=f"工单{ticket.number}", slots={"ticket_number": ticket.number})
    assert required(own) == []
    other = make_tracker(sender="wx:someone", text=f"工单{ticket.number}", slots={"ticket_number": ticket.number})
    assert required(other) == ["ticket_check"]


def test_unknown_number_and_wrong_digits_get_the_same_reply_and_lock_alike(svc):
    ticket = svc.create_ticket("rest:owner2", "complaint", "收费不清楚", contact="13812345678")
    wrong, wrong_said = check("wx:a", ticket.number, "0000")
    unknown, unknown_said = check("wx:b", "TK209901010000", "5678")
    assert wrong == unknown == {"ticket_check": None}
    assert wrong_said == unknown_said
    for _ in range(2):
        result, _ = check("wx:a", ticket.number, "0000")
    assert result["verify_status"] == "locked"
    locked, _ = check("wx:a", ticket.number, "5678")  # even the right digits, while locked
    assert locked.get("ticket_check") is None


def test_right_digits_show_the_ticket_from_another_conversation(svc):
    ticket = svc.create_ticket("rest:owner3", "complaint", "催收打给我家人", contact="13812345678",
                               category="collection")
    result, _ = check("wx:c", ticket.number, "5678")
    assert result == {"ticket_check": "verified"}
    done = make_tracker(sender="wx:c", slots={"ticket_number": ticket.number, "ticket_check": "verified"})
    messages, _ = run(ActionCheckProgress(), done)
    assert ticket.number in all_text(messages) and "催收方式" in all_text(messages)
    # a forged slot without the check shows nothing of someone else's ticket
    forged = make_tracker(sender="wx:d", slots={"ticket_number": ticket.number, "ticket_check": "verified"})
    messages, _ = run(ActionCheckProgress(), forged)
    assert "催收" not in all_text(messages)


def test_a_linked_application_id_digits_also_open_the_ticket(svc):
    ticket = svc.create_ticket("rest:owner4", "negotiation", "协商还款", contact="registered",
                               application_id="SQ202611180002")
    assert check("wx:e", ticket.number, "5678")[0] == {"ticket_check": "verified"}


def test_a_ticket_past_its_deadline_is_apologised_for_and_pressed(svc):
    ticket = svc.create_ticket("rest:late", "complaint", "扣款错误", contact="13812345678")
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE tickets SET due_at = :due WHERE number = :n"),
                     {"due": datetime.now(timezone.utc) - timedelta(hours=2), "n": ticket.number})
    messages, _ = run(ActionCheckProgress(), make_tracker(sender="rest:late", text="我的工单处理到哪了",
                                                          intent="check_progress"))
    assert "已经超过承诺的答复时间" in all_text(messages) and "催办" in all_text(messages)
    with svc.engine.connect() as conn:
        rows = conn.execute(text("SELECT queue, summary FROM handoffs WHERE sender_id = 'rest:late'")).fetchall()
    assert rows and ticket.number in rows[0][1]


def test_ticket_words_are_told_from_application_progress():
    assert asks_about_ticket("我投诉的处理得怎么样了") and asks_about_ticket("查下工单")
    assert not asks_about_ticket("我的申请到哪一步了") and not asks_about_ticket("放款了吗")


def test_ticket_replies_are_compliant(svc):
    now = datetime.now(timezone.utc)
    tickets = [svc.create_ticket("rest:c", kind, "内容", contact="13812345678", category=category)
               for kind, category in (("complaint", "fee"), ("negotiation", None), ("callback", None))]
    late = [t.__class__(**{**t.__dict__, "due_at": now - timedelta(hours=3)}) for t in tickets]
    for group in ([], tickets[:1], tickets, late):
        reply = tickets_answer(CAT, group, now).text
        assert check_text(reply) == [], reply


def test_a_call_back_number_is_kept_in_full_apart_from_the_masked_ticket(svc):
    given = svc.create_ticket("rest:cb", "complaint", "态度差", contact="打我手机 138 1234 5678")
    registered = svc.create_ticket("rest:cb", "callback", "回电", contact="registered",
                                   application_id="SQ202611180002")
    svc.create_ticket("rest:cb", "complaint", "没留电话")
    assert given.contact and "12345678" not in given.contact  # the ticket itself stays masked
    listed = {ticket.number: phone for ticket, phone in svc.callbacks()}
    assert listed == {given.number: "13812345678", registered.number: "13800005678"}


def test_ops_callbacks_lists_them_only_to_a_logged_in_agent_and_audits_the_viewing(svc, tmp_path, capsys,
                                                                                   monkeypatch):
    from ops.access import audit, tokens, users
    from ops.cli import main
    from ops.project import Project

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # no login file of the real user
    monkeypatch.delenv("OPS_TOKEN", raising=False)
    monkeypatch.delenv("OPS_CONSOLE_DB", raising=False)
    monkeypatch.setenv("OPS_BCRYPT_ROUNDS", "4")
    (tmp_path / "config.yml").write_text("language: zh\n", "utf-8")  # a project root of its own
    project = Project.at(tmp_path)
    svc.create_ticket("rest:cb2", "complaint", "态度差", contact="13912345678")
    argv = ["callbacks", "--project", str(tmp_path), "--credit-db-url", str(svc.engine.url)]
    assert main(argv) == 1  # no login: not one number
    shown = capsys.readouterr()
    assert "13912345678" not in shown.out + shown.err and "请先登录" in shown.err
    users.add(project, "caller1", "Caller-pass-2026", ["agent"])
    monkeypatch.setenv("OPS_TOKEN", tokens.issue_automation(project, "caller1", "回电", 1, "admin")[0])
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "13912345678" in out and "投诉" in out
    [viewed] = audit.entries(project, who="caller1", action="callbacks_viewed")
    assert viewed.os_user and viewed.host and viewed.via.startswith("automation")


def test_guessing_a_ticket_from_many_conversations_locks_the_ticket(svc):
    from credit import policy

    ticket = svc.create_ticket("rest:owner9", "complaint", "收费不清楚", contact="13812345678")
    for i in range(policy.APPLICATION_MAX_FAILURES):
        check(f"wx:guess{i}", ticket.number, f"{1000 + i}")
    locked, _ = check("wx:fresh", ticket.number, "5678")  # the right digits, from a new conversation
    assert locked.get("ticket_check") is None and locked.get("verify_status") == "locked"


def test_an_application_number_with_complaint_words_is_still_an_identity_checked_progress_query(svc):
    asking = make_tracker(sender="rest:t9", text="SQ202611200001 的投诉处理得怎么样了", intent="check_progress",
                          slots={"application_id": "SQ202611200001"}, active_loop="progress_form")
    assert required(asking) == ["application_id", "id_last4"]
