#!/usr/bin/env bash
# Debian packages the test suite needs; installs only what is missing (needs root for apt-get):
# chromium (web chat browser test), postgresql (real PostgreSQL tests, scale-out tracker store),
# redis-server (scale-out lock store), nginx (scale-out load balancer), fonts-wqy-microhei (console screenshots).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || need+=(nginx-light)
# Chinese glyphs for the console screenshots the browser test can take (text is boxes without a CJK font)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "缺少系统软件包: ${need[*]} (请用 apt-get install ${need[*]} 安装)" >&2
  exit 1
fi
echo ">> apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the tests start their own servers; the packaged services are not needed
for service in redis-server nginx postgresql; do
  (command -v systemctl >/dev/null 2>&1 && systemctl disable --now "$service" >/dev/null 2>&1) || true
done
