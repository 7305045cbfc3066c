#!/usr/bin/env bash
# Creates .venv with a Python 3.8–3.10 interpreter and installs the pinned dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed
want=$(cat requirements.txt constraints.txt | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import rasa' 2>/dev/null; then
  exit 0
fi
py=$(scripts/find_python.sh)
echo ">> 使用 Python: $py"
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
echo ">> 安装依赖 (约 2 分钟) ..."
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
echo "$want" > "$stamp"
echo ">> 依赖安装完成"
