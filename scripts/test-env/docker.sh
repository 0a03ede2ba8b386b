#!/usr/bin/env bash
# The test suite's own Docker engine: `up` installs what is missing (Debian's docker.io,
# busybox-static, docker-registry, openssl), starts dockerd on a private socket with its own data,
# exec root and pidfile, and builds the test images with `docker import` (no registry can be
# pulled from); `down` stops the engine if `up` started it. Both are idempotent.
set -euo pipefail
ROOT=${GLRUN_TEST_DOCKER_ROOT:-/tmp/glrun-test-docker}
SOCK="$ROOT/docker.sock"
export DOCKER_HOST="unix://$SOCK"
here=$(cd "$(dirname "$0")" && pwd)

need_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || missing+=(busybox-static)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v ip >/dev/null || missing+=(iproute2)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then echo "test-env: missing ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2; exit 1; fi
    echo "test-env: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_engine() {
  mkdir -p "$ROOT"
  if engine_up; then return; fi
  if [ "$(id -u)" != 0 ]; then echo "test-env: no engine answers at $SOCK, and starting dockerd needs root" >&2; exit 1; fi
  echo "test-env: starting dockerd on $SOCK" >&2
  # --iptables stays on: the tests need the bridge's NAT-free routing between test networks only.
  nohup dockerd --host "$DOCKER_HOST" --data-root "$ROOT/data" --exec-root "$ROOT/exec" \
    --pidfile "$ROOT/docker.pid" >"$ROOT/dockerd.log" 2>&1 &
  echo started >"$ROOT/started-by-up"
  for _ in $(seq 1 100); do engine_up && return; sleep 0.2; done
  echo "test-env: dockerd did not come up; its log:" >&2; tail -20 "$ROOT/dockerd.log" >&2; exit 1
}

case "${1:-up}" in
  up)
    need_packages
    start_engine
    bash "$here/images.sh"
    echo "$DOCKER_HOST"
    ;;
  down)
    if [ -f "$ROOT/started-by-up" ] && [ -f "$ROOT/docker.pid" ]; then
      kill "$(cat "$ROOT/docker.pid")" 2>/dev/null || true
      for _ in $(seq 1 50); do [ -f "$ROOT/docker.pid" ] || break; sleep 0.2; done
      rm -f "$ROOT/started-by-up"
    fi
    ;;
  *) echo "usage: docker.sh up|down" >&2; exit 2 ;;
esac
