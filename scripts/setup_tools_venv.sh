#!/usr/bin/env bash
# Creates .venv-tools: checkov and kubernetes-validate for the deployment checks (tests/deploy/), pinned by
# deploy/tools/requirements.txt + deploy/tools/constraints.txt. A venv of its own because both conflict with
# Rasa 3.6's pins in .venv (see deploy/tools/requirements.txt). Everything comes from the package index through
# pip; nothing is downloaded when the checks run. Re-runs when either file changes.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv-tools/.installed
want=$(cat deploy/tools/requirements.txt deploy/tools/constraints.txt | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv-tools/bin/checkov ]; then
  exit 0
fi
# Any CPython 3.9-3.12 will do (the tools do not run project code); 3.11 first: on 3.10 checkov also pulls in
# the pyston JIT (a .pth hook), which the lock leaves out.
py=""
for candidate in "${TOOLS_PYTHON:-}" python3.11 python3.12 python3.10 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null; then
    py=$candidate; break
  fi
done
if [ -z "$py" ]; then
  echo "找不到 Python 3.9–3.12 来建 .venv-tools（可设置 TOOLS_PYTHON）" >&2
  exit 1
fi
echo ">> 部署检查工具 (checkov, kubernetes-validate): $("$py" --version)"
[ -x .venv-tools/bin/python ] || "$py" -m venv .venv-tools
.venv-tools/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
.venv-tools/bin/python -m pip install --quiet --disable-pip-version-check \
  -r deploy/tools/requirements.txt -c deploy/tools/constraints.txt
echo "$want" > "$stamp"
