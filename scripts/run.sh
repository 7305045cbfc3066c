#!/usr/bin/env bash
# make run: seed the demo data, ensure a production model, start the action server (5055) and Rasa (5005)
# through the hardened launcher (server/: action-call cap, never-silent replies, REST access control,
# masked logs and tracker store). Secrets come from the environment only and never go on a command line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_venv.sh
mkdir -p var logs
.venv/bin/python -m credit.seed
model=$(.venv/bin/python scripts/model.py production)
if [ -z "${RASA_AUTH_TOKEN:-}" ] && [ -z "${RASA_JWT_SECRET:-}" ]; then
  RASA_AUTH_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')
  echo ">> 未设置 RASA_AUTH_TOKEN，本次生成: $RASA_AUTH_TOKEN (HTTP API 需带 ?token=...)"
fi
export RASA_AUTH_TOKEN="${RASA_AUTH_TOKEN:-}"
if [ -n "${REST_AUTH_TOKEN:-}" ]; then
  echo ">> REST 通道需要 Authorization: Bearer \$REST_AUTH_TOKEN"
else
  echo ">> REST 通道仅接受本机调用（设置 REST_AUTH_TOKEN 可凭令牌开放）"
fi
.venv/bin/python -m server actions --actions actions --port "${ACTION_PORT:-5055}" &
actions_pid=$!
# ops web console (python -m ops serve), loopback unless OPS_CONSOLE_HOST says otherwise
RASA_URL="${RASA_URL:-http://localhost:${RASA_PORT:-5005}}" .venv/bin/python -m ops serve \
  --host "${OPS_CONSOLE_HOST:-127.0.0.1}" --port "${OPS_CONSOLE_PORT:-5010}" &
console_pid=$!
# reaching out first: repayment reminders and notices within the contact rules (python -m outreach)
# (each delivered WeChat notice is also written into the customer's conversation through RASA_URL)
RASA_URL="${RASA_URL:-http://localhost:${RASA_PORT:-5005}}" \
  .venv/bin/python -m outreach run --interval "${OUTREACH_INTERVAL:-60}" >> logs/outreach.log 2>&1 &
outreach_pid=$!
trap 'kill $actions_pid $console_pid $outreach_pid 2>/dev/null || true' EXIT INT TERM
echo ">> 运营控制台: http://${OPS_CONSOLE_HOST:-127.0.0.1}:${OPS_CONSOLE_PORT:-5010}/（首个管理员：.venv/bin/python -m ops user add <用户名> --roles admin；命令行操作前先 .venv/bin/python -m ops login <用户名>）"
echo ">> 主动联系（还款提醒等）: 日志 logs/outreach.log；预览: .venv/bin/python -m outreach preview --at <时间>"
echo ">> 动作服务器: http://${ACTION_HOST:-127.0.0.1}:${ACTION_PORT:-5055}  Rasa: http://localhost:${RASA_PORT:-5005}"
.venv/bin/python -m server run --model "$model" --enable-api \
  --port "${RASA_PORT:-5005}" --interface "${RASA_INTERFACE:-0.0.0.0}" \
  --endpoints endpoints.yml --credentials credentials.yml --cors "${RASA_CORS:-*}"
