#!/usr/bin/env bash
# Creates .venv with a Python 3.8–3.10 interpreter, installs the pinned dependencies and this project
# itself (editable, so every package is importable without sys.path edits). Re-runs when requirements.txt,
# constraints.txt or pyproject.toml change.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed
want=$(cat requirements.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import rasa, harness' 2>/dev/null; then
  exit 0
fi
py=$(scripts/find_python.sh)
echo ">> 使用 Python: $py"
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
echo ">> 安装依赖 (约 2 分钟) ..."
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
# the project itself, editable; setuptools comes with the venv, so nothing is fetched to build it
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
echo ">> 依赖安装完成"
