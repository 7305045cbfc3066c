"""`python -m ops <步骤>` — the weekly retraining workflow for the operations team.

Who runs a step that changes a record or shows a customer's data is proven, never typed: the verb first
asks :func:`ops.access.identity.require` for the logged-in account (`python -m ops login`, or
``OPS_TOKEN``) and the permission the console's role table gives that verb.  ``--by`` is gone; given
anyway, it is refused with the way to log in.  The identity verbs and ``user`` live in
:mod:`ops.access.cli`, ``tickets``/``callbacks`` in :mod:`ops.tickets.cli`, ``pipl`` in :mod:`ops.privacy.cli`.

Exit codes: 0 成功; 1 失败或被拒绝（未登录、无权限、导入有错误行、评估未通过、上线被拒）; 2 命令用法错误.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, Dict, List, NoReturn, Optional

from ops.access import cli as access_cli
from ops.access.identity import LOGIN_HINT, record, require
from ops.privacy import cli as pipl_cli
from ops.project import OpsError, Project
from ops.tickets import cli as tickets_cli

_ARGPARSE_ZH = {
    "the following arguments are required": "缺少必需的参数",
    "unrecognized arguments": "无法识别的参数",
    "invalid choice": "无效的选择",
    "expected one argument": "需要一个参数值",
    "invalid float value": "不是有效的小数",
    "invalid int value": "不是有效的整数",
    "choose from": "可选",
}

STEPS_HELP = """先登录：python -m ops login（控制台账号；自动化脚本用 OPS_TOKEN）
一轮完整流程（每周）：
  export → 人工标注 → import → validate → train → evaluate → promote（出问题时 rollback）
每个步骤的详细用法：python -m ops <步骤> --help；运营手册：README.md「运营手册」
"""
BY_REMOVED = ("--by 已取消：操作人不再由命令行填写，而是登录的控制台账号（审计日志同时记录系统用户和主机）。"
              + LOGIN_HINT + "登录后去掉 --by 重新运行；python -m ops whoami 查看当前账号。")


class ZhParser(argparse.ArgumentParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示帮助并退出")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "用法:", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "用法:", 1)

    def error(self, message: str) -> NoReturn:
        for english, chinese in _ARGPARSE_ZH.items():
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}\n")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, default=None, help="项目根目录（默认：当前目录）")


def build_parser() -> ZhParser:
    parser = ZhParser(prog="python -m ops", description="信贷客服助手 · 运营再训练工具（在项目根目录运行）",
                      epilog=STEPS_HELP)
    sub = parser.add_subparsers(dest="step", title="步骤", metavar="<步骤>", parser_class=ZhParser)

    p = sub.add_parser("export", help="导出值得复核的客户消息", description=(
        "从对话记录库（endpoints.yml 的 tracker_store）读取日期范围内的客户消息，挑出值得人工复核的："
        "未识别/置信度低/客户随后换了说法/随后转人工或投诉；近似重复的合并计数；身份证号、手机号、"
        "银行卡号、验证码、姓名先脱敏；写出 XLSX（“正确意图”列带下拉列表）和 CSV。"))
    _common(p)
    p.add_argument("--since", help="开始日期 YYYY-MM-DD（默认：结束日期前 6 天）")
    p.add_argument("--until", help="结束日期 YYYY-MM-DD，含当天（默认：今天）")
    p.add_argument("--out", type=Path, help="输出文件名（不含扩展名；默认 var/ops/review_<开始>_<结束>）")
    p.add_argument("--min-confidence", type=float, default=0.6, help="低于此置信度的消息算“置信度低”（默认 0.6）")
    p.add_argument("--max-rows", type=int, default=2000, help="最多导出多少行（默认 2000，上限 5000）")
    p.add_argument("--all", action="store_true", help="导出范围内的全部消息（仍然脱敏、去重）")
    p.add_argument("--endpoints", type=Path, help="endpoints.yml 路径（默认：项目根目录下的）")
    p.add_argument("--db-url", help="直接指定对话记录库的 SQLAlchemy 地址（覆盖 endpoints.yml）")

    p = sub.add_parser("import", help="导入标注好的表格", description=(
        "读取标注好的表格（XLSX 或 CSV，需要“文本”和“正确意图”两列），逐行检查：意图必须存在；"
        "与现有训练数据或团队留出集矛盾（同一句话、不同意图）的行会被拒绝；含个人信息、公式、"
        "超过 5000 行或表头不对的表格整表拒绝。默认只要有一行错误就什么都不写；加 --skip-invalid "
        "则导入正确的行、报告错误的行。导入的样本写入 data/nlu/ops/<意图>.yml，并记入台账。"))
    _common(p)
    p.add_argument("file", type=Path, help="标注好的 .xlsx 或 .csv 文件")
    p.add_argument("--skip-invalid", action="store_true", help="跳过有错误的行，导入其余的行")
    p.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入任何文件")

    p = sub.add_parser("validate", help="检查训练数据", description=(
        "运行 rasa data validate --fail-on-warnings，以及项目自己的检查：同一句话标成不同意图、"
        "训练数据混入留出集、意图样本数不足、回复文案合规检查、运营数据与台账是否一致。"))
    _common(p)
    p.add_argument("--min-examples", type=int, default=10, help="每个意图至少多少条训练样本（默认 10）")
    p.add_argument("--skip-rasa", action="store_true", help="只做项目检查，不运行 rasa data validate（更快）")

    p = sub.add_parser("train", help="训练候选模型", description=(
        "先做项目检查，再用 config.yml（固定随机种子）训练候选模型到 models/candidates/。"
        "真实项目约需 4–6 分钟。"))
    _common(p)
    p.add_argument("--name", help="候选模型名（默认 candidate-<时间>-b<批次>）")

    p = sub.add_parser("evaluate", help="评估候选模型并判断能否上线", description=(
        "在同一个固定回归集（团队留出集 + 已上线批次的全部运营纠正；被评估的批次不在其中）上"
        "对比候选模型和生产模型，写出报告（各意图 F1、混淆矩阵图）。宏平均 F1 下降超过 1 个百分点，"
        "或任一业务意图 F1 下降超过 3 个百分点且多错至少 2 条，即判定不能上线。"))
    _common(p)
    p.add_argument("--candidate", type=Path, help="候选模型文件（默认：最新的候选模型）")

    p = sub.add_parser("promote", help="上线通过评估的候选模型", description=(
        "只有通过评估闸门的候选模型才能上线。先把当前生产模型存入历史，再替换 "
        "models/production/model.tar.gz，并向 RASA_URL（多个副本用逗号分隔）发送带令牌 RASA_AUTH_TOKEN "
        "的 PUT /model，服务器加载完成前旧模型继续服务，不停机。任何一台失败都会恢复原模型。"
        "四眼原则：上线人（登录的账号）不能是训练这个候选模型或导入它所含批次的人。"))
    _common(p)
    p.add_argument("--candidate", type=Path, help="候选模型文件（默认：最新的候选模型）")
    p.add_argument("--url", help="Rasa 服务器地址，多个用逗号分隔（默认：环境变量 RASA_URL 或 http://localhost:5005）")
    p.add_argument("--offline", action="store_true", help="服务器没在运行：只替换模型文件，下次启动时生效")

    p = sub.add_parser("rollback", help="回滚到上一个生产模型", description=(
        "把上一个生产模型放回 models/production/model.tar.gz 并通知服务器加载（不停机）。"
        "被回滚掉的模型保留在 models/production/history/。"))
    _common(p)
    p.add_argument("--to", help="回滚到历史中指定的模型（模型名或 model_id；默认：上一个）")
    p.add_argument("--url", help="Rasa 服务器地址，多个用逗号分隔（默认：环境变量 RASA_URL 或 http://localhost:5005）")
    p.add_argument("--offline", action="store_true", help="服务器没在运行：只替换模型文件")
    p.add_argument("--credit-db-url", help="业务数据库地址，读取上线后的合规拦截（默认 DATABASE_URL 或 var/credit.db）")

    p = sub.add_parser("status", help="查看当前状态")
    _common(p)

    p = sub.add_parser("undo-import", help="撤销一批导入", description=(
        "从台账和 data/nlu/ops/ 中删除某一批导入的全部样本（例如评估未通过的坏批次），并记入导入日志。"))
    _common(p)
    p.add_argument("--batch", type=int, required=True, help="要撤销的批次号（见 python -m ops status）")

    p = sub.add_parser("serve", help="启动运营控制台（网页）", description=(
        "启动中文运营控制台：看板、未识别问题标注、训练数据、训练/评估/上线/回滚、对话查看、个人信息申请、"
        "审计日志。默认只监听 127.0.0.1:5010，对外请经 nginx HTTPS 反向代理（见 docs/deployment.md）。"))
    _common(p)
    p.add_argument("--host", help="监听地址（默认 OPS_CONSOLE_HOST 或 127.0.0.1）")
    p.add_argument("--port", type=int, help="端口（默认 OPS_CONSOLE_PORT 或 5010）")
    p.add_argument("--db-url", help="对话记录库的 SQLAlchemy 地址（默认读 endpoints.yml）")
    p.add_argument("--credit-db-url", help="业务数据库地址（默认 DATABASE_URL 或 var/credit.db）")

    access_cli.register(sub)
    pipl_cli.register(sub)
    tickets_cli.register(sub)
    return parser


def _project(args: argparse.Namespace) -> Project:
    return Project.at(args.project)


def cmd_export(args: argparse.Namespace) -> int:
    from ops.retrain.export import run_export

    project = _project(args)
    operator = require(project, "export")
    result = run_export(project, args.since, args.until, args.out, args.min_confidence, args.all,
                        args.max_rows, args.endpoints, args.db_url, by=operator.username)
    record(project, operator, "export", project.rel(result.xlsx), {"rows": result.rows})
    print(f"已导出 {result.rows} 行：\n  {result.xlsx}\n  {result.csv}")
    if result.left_out:
        print(f"另有 {result.left_out} 条因超过 --max-rows 未导出（已按出现次数和置信度排序，先导出最值得看的）。")
    print("下一步：在 XLSX 的“正确意图”列用下拉列表标注（不确定的留空），然后运行 python -m ops import <文件>")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ops.retrain.importer import format_report, run_import

    project = _project(args)
    operator = require(project, "import")
    report = run_import(project, args.file, operator.username, args.skip_invalid, args.dry_run)
    if not args.dry_run:
        record(project, operator, "import", f"第 {report.batch} 批" if report.written else "未写入",
               {"file": Path(args.file).name, "rows": len(report.imported) if report.written else 0,
                "errors": len(report.errors)})
    print(format_report(report))
    if report.written:
        print(f"已导入第 {report.batch} 批：{len(report.imported)} 条样本写入 data/nlu/ops/，"
              f"并记入 data/regression/ops_corrections.yml。下一步：python -m ops validate")
        return 0
    if report.errors and not args.skip_invalid:
        print("有错误的行，本次没有写入任何数据。请修改表格后重新导入，或加 --skip-invalid 只导入正确的行。")
        return 1
    if args.dry_run:
        print("（--dry-run：只检查，没有写入）")
    elif not report.imported:
        print("没有需要导入的新样本。")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ops.retrain.validate import ERROR, run_validate

    findings = run_validate(_project(args), args.min_examples, not args.skip_rasa)
    for finding in findings:
        print(finding)
    errors = [f for f in findings if f.level == ERROR]
    if errors:
        print(f"检查未通过：{len(errors)} 个错误。")
        return 1
    print("检查通过。" + ("" if not findings else f"（{len(findings)} 个警告）") + "下一步：python -m ops train")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ops.retrain.train import run_train

    project = _project(args)
    operator = require(project, "train")
    candidate = run_train(project, operator.username, args.name)
    record(project, operator, "train", candidate.name, {"batch": candidate.batch})
    print(f"候选模型：{candidate.path}\n下一步：python -m ops evaluate")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ops.retrain.gate import run_evaluate

    result, report = run_evaluate(_project(args), args.candidate)
    print(result.verdict())
    for note in result.notes:
        print(f"  说明：{note}")
    print(f"报告：{report}")
    if result.passed:
        print("下一步：python -m ops promote")
        return 0
    print("这个候选模型不会上线。请检查本批标注（报告里列出了新答错的句子），"
          "必要时用 python -m ops undo-import --batch <批次> 撤销这批导入。")
    return 1


def cmd_promote(args: argparse.Namespace) -> int:
    from ops.retrain.promote import run_promote

    project = _project(args)
    operator = require(project, "promote")
    try:
        entry = run_promote(project, args.candidate, operator.username, args.offline, args.url,
                            accountable=operator.accountable)
    except OpsError as e:
        record(project, operator, "promote_refused", str(args.candidate or "最新候选模型"), str(e)[:300])
        raise
    record(project, operator, "promote", str(entry["source"]), {"model_id": entry["model_id"]})
    where = "（仅替换文件，服务器下次启动时加载）" if args.offline else "，服务器已加载新模型"
    print(f"已上线 {entry['source']}{where}。如需撤回：python -m ops rollback")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from credit.db.engine import resolve_database_url
    from ops.retrain.guard_rise import rise_after_promote
    from ops.retrain.promote import run_rollback
    from ops.retrain.store import label

    project = _project(args)
    operator = require(project, "rollback")
    # read before the rollback changes the manifest: a rise of compliance interceptions since the promote
    rise = rise_after_promote(project, resolve_database_url(args.credit_db_url or os.environ.get("DATABASE_URL")))
    reason = rise.reason() if rise else None
    entry = run_rollback(project, operator.username, args.offline, args.url, args.to, reason=reason)
    record(project, operator, "rollback", label(entry),
           {"model_id": entry.get("model_id"), **({"reason": reason} if reason else {})})
    if reason:
        print(f"回滚原因：{reason}")
    print(f"已回滚到 {label(entry)}" + ("（仅替换文件）" if args.offline else "，服务器已加载该模型") + "。")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ops.retrain.gate import load_gate
    from ops.retrain.ledger import read_ledger, read_log
    from ops.retrain.store import current_production, summary
    from ops.retrain.train import load_candidate

    project = _project(args)
    print(summary(project))
    try:
        live_batch = int(current_production(project).get("batch") or 0)
    except OpsError:
        live_batch = 0
    batches: Dict[int, int] = {}
    for c in read_ledger(project):
        batches[c.batch] = batches.get(c.batch, 0) + 1
    for batch, count in sorted(batches.items()):
        state = "已上线" if batch <= live_batch else "待上线（下次评估时被评估）"
        print(f"第 {batch} 批：{count} 条，{state}")
    for path in sorted(project.candidates_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)[-5:]:
        candidate = load_candidate(project, path)
        gate = load_gate(path)
        verdict = "未评估" if gate is None else ("通过" if gate.get("passed") else "未通过")
        print(f"候选模型 {candidate.name}：含批次 ≤ {candidate.batch}，评估{verdict}")
    for entry in read_log(project)[-5:]:
        action = {"import": "导入", "retire": "下线样本，"}.get(str(entry.get("action")), "撤销")
        print(f"{entry.get('at')} {entry.get('by')} {action}第 {entry.get('batch')} 批 {entry.get('rows')} 条"
              + (f"（{entry.get('file')}）" if entry.get("file") else ""))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from ops.retrain.ledger import undo_batch

    project = _project(args)
    operator = require(project, "undo-import")
    removed = undo_batch(project, args.batch, operator.username)
    record(project, operator, "undo_import", f"第 {args.batch} 批", {"rows": removed})
    print(f"已撤销第 {args.batch} 批：删除 {removed} 条样本。下一步：python -m ops train")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ops.console.server import serve

    serve(_project(args), args.host, args.port, args.db_url, args.credit_db_url)
    return 0


COMMANDS: Dict[str, Callable[[argparse.Namespace], int]] = {
    "export": cmd_export, "import": cmd_import, "validate": cmd_validate, "train": cmd_train,
    "evaluate": cmd_evaluate, "promote": cmd_promote, "rollback": cmd_rollback, "status": cmd_status,
    "undo-import": cmd_undo, "serve": cmd_serve, "user": access_cli.run_user, "callbacks": tickets_cli.run_callbacks,
    "tickets": tickets_cli.run, "login": access_cli.run_login, "logout": access_cli.run_logout,
    "whoami": access_cli.run_whoami, "pipl": pipl_cli.run,
}


def _typed_name(argv: List[str]) -> bool:
    """`--by <name>` (or `--by=<name>`) anywhere: the old way of naming oneself, refused before parsing."""
    return any(arg == "--by" or arg.startswith("--by=") for arg in argv)


def main(argv: Optional[List[str]] = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not os.environ.get("OPS_SHOW_WARNINGS"):  # library deprecation chatter is not for the operations team
        warnings.simplefilter("ignore")
        warnings.showwarning = lambda *args, **kwargs: None  # Rasa/TF reset the filters on import
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
    argv = list(sys.argv[1:] if argv is None else argv)
    if _typed_name(argv):
        print(f"错误：{BY_REMOVED}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.step:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.step](args)
    except OpsError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
