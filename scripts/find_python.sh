#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter: Rasa 3.6 refuses >= 3.11, and the project's code uses
# Python 3.10 features (zip(strict=...)). Order: $PYTHON, PATH (python3.10, python3), then pyenv's versions folder.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3,10) else 1)' >/dev/null 2>&1; }
cands=()
[ -n "${PYTHON:-}" ] && cands+=("$PYTHON")
for n in python3.10 python3; do
  p=$(command -v "$n" 2>/dev/null) && cands+=("$p")
done
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root 2>/dev/null)")
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for r in "${roots[@]}"; do
  for v in 3.10; do
    for p in $(ls -d "$r"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -rV); do cands+=("$p"); done
  done
done
for c in "${cands[@]}"; do
  if ok "$c"; then
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "错误: 找不到 Python 3.10 解释器 (Rasa 3.6 不支持 Python 3.11 及以上，本项目代码需要 3.10)。" >&2
echo "请安装 Python 3.10 (例如 'pyenv install 3.10.13' 或 'apt-get install python3.10')，或用 PYTHON=/path/to/python3.10 指定。" >&2
exit 1
