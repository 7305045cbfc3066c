#!/usr/bin/env bash
# make run: seed the demo data, ensure a production model, start the action server (5055) and Rasa (5005).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_venv.sh
mkdir -p var logs
.venv/bin/python -m credit.seed
model=$(.venv/bin/python scripts/model.py production)
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  RASA_AUTH_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')
  echo ">> 未设置 RASA_AUTH_TOKEN，本次生成: $RASA_AUTH_TOKEN (HTTP API 需带 ?token=...)"
fi
export RASA_AUTH_TOKEN
.venv/bin/rasa run actions --actions actions --port "${ACTION_PORT:-5055}" &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT INT TERM
echo ">> 动作服务器: http://localhost:${ACTION_PORT:-5055}  Rasa: http://localhost:${RASA_PORT:-5005}"
.venv/bin/rasa run --model "$model" --enable-api --auth-token "$RASA_AUTH_TOKEN" \
  --port "${RASA_PORT:-5005}" --endpoints endpoints.yml --credentials credentials.yml --cors "*"
