#!/usr/bin/env bash
# make image: builds the Dockerfile with podman or docker, whichever has a working engine, for linux/amd64
# (the platform of deploy/docker/requirements.lock's hashes). Where no engine runs, or the base image can be
# neither found nor pulled, it says so and exits 0: nothing to build with is not a failure of the project.
# A build that starts and fails exits non-zero. IMAGE (default credit-assistant) and TAG (default: git describe).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-credit-assistant}
tag=${TAG:-$(git describe --always --dirty 2>/dev/null || echo dev)}
base=$(awk '/^FROM /{print $2; exit}' Dockerfile)
engine=""
for candidate in podman docker; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" info >/dev/null 2>&1; then engine=$candidate; break; fi
  echo ">> $candidate: 有客户端，但连不上容器引擎（$candidate info 失败）"
done
if [ -z "$engine" ]; then
  echo ">> make image: 这台机器上没有可用的容器引擎（podman/docker 都无法构建），跳过镜像构建。"
  echo "   在装有 podman 或 docker 引擎、能拉取 $base 的机器上运行 make image。"
  exit 0
fi
if ! "$engine" image inspect "$base" >/dev/null 2>&1 && ! "$engine" pull --platform linux/amd64 "$base"; then
  echo ">> make image: $engine 拉取不到基础镜像 $base，跳过镜像构建。"
  exit 0
fi
echo ">> $engine build -t $image:$tag (linux/amd64, base $base)"
"$engine" build --platform linux/amd64 -t "$image:$tag" .
echo ">> 镜像: $image:$tag（推送: $engine push $image:$tag <仓库>/$image:$tag，见 docs/deployment.md）"
