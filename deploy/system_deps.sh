#!/usr/bin/env bash
# Debian packages of the scale-out deployment and its test (tests/scale, deploy/scaleout.py):
# PostgreSQL (tracker store, loan database), Redis (lock store), nginx (load balancer).
# Installs only what is missing; needs root for apt-get.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || need+=(nginx-light)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "缺少系统软件包: ${need[*]} (请用 apt-get install ${need[*]} 安装)" >&2
  exit 1
fi
echo ">> apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the test starts its own servers; the packaged services are not needed
for service in redis-server nginx; do
  (command -v systemctl >/dev/null 2>&1 && systemctl disable --now "$service" >/dev/null 2>&1) || true
done
