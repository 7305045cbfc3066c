"""`python -m ops login | logout | whoami | user …` — the command line's identity and the console accounts.

Registered into :mod:`ops.cli`'s parser (which keeps the retraining verbs).  A login is the console's
account and password (the same lockout after five wrong ones); the token it returns is kept for the OS
user (:mod:`ops.access.session_file`) and checked on the server at every use (:mod:`ops.access.tokens`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ops.access import audit, identity, session_file, sessions, tokens, users
from ops.project import OpsError, Project


def _project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, default=None, help="项目根目录（默认：当前目录）")


def register(sub: Any) -> None:
    p = sub.add_parser("login", help="用控制台账号登录命令行（修改数据或查看客户信息的步骤都需要）", description=(
        "用运营控制台的账号和密码登录。登录只属于当前系统用户和这台机器，闲置 "
        f"{tokens.LOGIN_IDLE_S // 60} 分钟或 {tokens.LOGIN_MAX_S // 3600} 小时后自动失效，"
        "python -m ops logout 立即失效。令牌保存在 ~/.config/credit-ops/sessions.json（权限 600），服务器只存它的摘要。"
        "自动化脚本不登录，改用环境变量 OPS_TOKEN（由管理员在控制台「用户管理」页签发）。"))
    p.add_argument("username", nargs="?", help="账号（不写则提示输入）")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    _project_option(p)
    _project_option(sub.add_parser("logout", help="退出登录（服务器端立即失效，并删除本机保存的令牌）"))
    _project_option(sub.add_parser("whoami", help="显示当前登录的账号、角色和有效期"))

    p = sub.add_parser("user", help="管理控制台账号（管理员）", description=(
        "控制台账号和角色：admin（管理员）、annotator（标注员）、trainer（训练员）、approver（审批人）、"
        "auditor（审计员）、agent（客服坐席）。还没有任何账号时，第一个管理员在服务器上直接创建："
        "python -m ops user add <用户名> --roles admin；之后的操作都需要管理员先登录。"))
    usub = p.add_subparsers(dest="user_cmd", title="操作", metavar="<操作>", parser_class=type(p))
    u = usub.add_parser("add", help="新增用户（密码从终端输入，或 --password-stdin 从标准输入读一行）")
    u.add_argument("username", help="用户名（字母、数字、点、下划线、短横线）")
    u.add_argument("--roles", required=True, help="角色，逗号分隔，如 annotator,trainer")
    u.add_argument("--name", default="", help="显示的姓名")
    u.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    _project_option(u)
    _project_option(usub.add_parser("list", help="列出用户"))
    u = usub.add_parser("roles", help="修改角色")
    _project_option(u)
    u.add_argument("username")
    u.add_argument("--roles", required=True, help="新的角色，逗号分隔")
    for name, text in (("passwd", "重设密码"), ("disable", "停用"), ("enable", "启用"), ("unlock", "解除锁定")):
        u = usub.add_parser(name, help=text)
        _project_option(u)
        u.add_argument("username")
        if name == "passwd":
            u.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")


def _password(from_stdin: bool, twice: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("密码：")
    if twice and getpass.getpass("再输入一次：") != first:
        raise OpsError("两次输入的密码不一致。")
    return first


def _when(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M")


def run_login(args: argparse.Namespace) -> int:
    project = Project.at(args.project)
    name = (args.username or "").strip() or input("账号：").strip()
    password = _password(args.password_stdin, twice=False)
    me, here = identity.os_user(), identity.host()
    user, reason = users.authenticate(project, name[:32], password[:200])
    if user is None:
        audit.record(project, name[:32] or "-", "login_failed", detail=reason, os_user=me, host=here, via="login")
        raise OpsError(f"登录失败：{reason}")
    key = identity.session_key(project)
    previous = session_file.read(key)
    if previous:  # a new login replaces this OS user's previous one
        tokens.revoke_token(project, previous["token"], user.username)
    token, until = tokens.issue_login(project, user.username, me, here)
    session_file.write(key, {"token": token, "username": user.username, "expires_at": until})
    audit.record(project, user.username, "login", "python -m ops login", os_user=me, host=here, via="login")
    shown = user.username if user.display == user.username else f"{user.display}（{user.username}）"
    print(f"已登录：{shown}，角色：{user.role_labels}；最晚 {_when(until)} 失效，"
          f"闲置 {tokens.LOGIN_IDLE_S // 60} 分钟自动退出。退出：python -m ops logout")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    project = Project.at(args.project)
    entry = session_file.forget(identity.session_key(project))
    if not entry:
        print("当前没有登录（本机没有保存的登录）。")
        return 0
    gone = tokens.revoke_token(project, entry["token"], str(entry.get("username") or ""))
    if gone is not None:
        audit.record(project, gone.username, "logout", "python -m ops logout", os_user=identity.os_user(),
                     host=identity.host(), via="login")
    print(f"已退出登录（{entry.get('username', '')}），本机保存的令牌已删除，服务器端已失效。")
    return 0


def run_whoami(args: argparse.Namespace) -> int:
    project = Project.at(args.project)
    operator = identity.current(project)
    if operator is None:
        raise identity.NotLoggedIn("当前没有登录。" + identity.LOGIN_HINT)
    way = {"login": "命令行登录", "automation": f"OPS_TOKEN 令牌 #{operator.token_id}（{operator.issued_by} 签发）",
           "job": "控制台任务令牌"}.get(operator.via, operator.via)
    print(f"账号：{operator.username}（{operator.display}）\n角色：{operator.role_labels or '无'}\n"
          f"方式：{way}，{operator.os_user}@{operator.host}\n有效至：{_when(operator.expires_at)}")
    return 0


def run_user(args: argparse.Namespace) -> int:
    if not args.user_cmd:
        print("用法：python -m ops user {add,list,roles,passwd,disable,enable,unlock} …（--help 查看说明）",
              file=sys.stderr)
        return 2
    project = Project.at(args.project)
    if args.user_cmd == "add" and users.count(project) == 0 and not identity.current(project):
        return _first_admin(project, args)
    operator = identity.require(project, f"user {args.user_cmd}")
    me = operator.username
    name = getattr(args, "username", "")
    if args.user_cmd == "add":
        user = users.add(project, args.username, _password(args.password_stdin, twice=True), [args.roles], args.name,
                         me)
        identity.record(project, operator, "user_add", user.username, {"roles": user.roles})
        print(f"已新增用户 {user.username}（{user.role_labels}）。")
    elif args.user_cmd == "list":
        for u in users.all_users(project):
            state = "已停用" if not u.active else ("已锁定" if u.locked else "正常")
            print(f"{u.username}\t{u.display}\t{u.role_labels}\t{state}")
    elif args.user_cmd == "roles":
        users.check_own_change(me, name, "roles", [args.roles])
        users.set_roles(project, name, [args.roles])
        sessions.destroy_user(project, name)  # the console reads the new roles at the next login
        identity.record(project, operator, "user_roles", name, {"roles": args.roles})
        print(f"已修改 {name} 的角色。")
    elif args.user_cmd == "passwd":
        users.set_password(project, name, _password(args.password_stdin, twice=True))
        sessions.destroy_user(project, name)
        tokens.revoke_user(project, name, me, ("login",))
        identity.record(project, operator, "user_password", name)
        print(f"已重设 {name} 的密码（已登录的控制台会话和命令行登录随之失效）。")
    elif args.user_cmd in ("disable", "enable"):
        users.check_own_change(me, name, args.user_cmd)
        users.set_active(project, name, args.user_cmd == "enable")
        if args.user_cmd == "disable":
            sessions.destroy_user(project, name)
            tokens.revoke_user(project, name, me)
        identity.record(project, operator, f"user_{args.user_cmd}", name)
        print(f"已{'启用' if args.user_cmd == 'enable' else '停用'} {name}。")
    elif args.user_cmd == "unlock":
        users.unlock(project, name)
        identity.record(project, operator, "user_unlock", name)
        print(f"已解除 {name} 的锁定。")
    return 0


def _first_admin(project: Project, args: argparse.Namespace) -> int:
    """No account yet: whoever is at the machine makes the first admin, once, and it is audited."""
    me, here = identity.os_user(), identity.host()
    user = users.add_first_admin(project, args.username, _password(args.password_stdin, twice=True), [args.roles],
                                 args.name, f"{me}@{here}")
    audit.record(project, f"local:{me}", "user_add", user.username, {"roles": user.roles, "first_admin": True},
                 os_user=me, host=here, via="local")
    print(f"已新增用户 {user.username}（{user.role_labels}）：这是第一个账号，之后新增账号需要管理员登录"
          f"（python -m ops login {user.username}）。")
    return 0
