#!/usr/bin/env bash
# Builds the images the tests use, from this machine's own binaries, with `docker import`:
#   busybox:latest          busybox-static and its applets (the s3/s4 pipelines' image)
#   glrun-test/tools:latest busybox + git (https, http-backend) + node, for clone helpers and the
#                           test git server; glibc libraries copied from the host with ldd.
# An image is rebuilt only when it is missing.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bb=$(command -v busybox || echo /bin/busybox)

base_rootfs() {
  local r=$1
  mkdir -p "$r"/{bin,etc,tmp,root,proc,sys,dev,usr/bin,builds}
  chmod 1777 "$r/tmp"
  cp "$bb" "$r/bin/busybox"
  for a in $("$bb" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
}

copy_with_libs() {
  local r=$1; shift
  for f in "$@"; do
    mkdir -p "$r$(dirname "$f")"; cp -a "$f" "$r$f"
    ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
      [ -e "$r$lib" ] && continue
      mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
    done
  done
}

have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have busybox:latest; then
  base_rootfs "$tmp/busybox"
  tar -C "$tmp/busybox" -c . | docker import -c 'CMD ["sh"]' - busybox:latest >/dev/null
  echo "test-env: built busybox:latest" >&2
fi

if ! have glrun-test/tools:latest; then
  r="$tmp/tools"
  base_rootfs "$r"
  git_core=$(git --exec-path)
  node_bin=$(command -v node)
  copy_with_libs "$r" "$(command -v git)" "$node_bin"
  mkdir -p "$r$git_core"
  cp -a "$git_core/." "$r$git_core/"
  for f in "$git_core"/*; do [ -f "$f" ] && [ ! -L "$f" ] && copy_with_libs "$r" "$f" >/dev/null 2>&1 || true; done
  [ -d /usr/share/git-core ] && mkdir -p "$r/usr/share" && cp -a /usr/share/git-core "$r/usr/share/"
  # A trust store with only public CAs: a test GitLab's self-signed CA is not in it, as in the field.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then mkdir -p "$r/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"; fi
  tar -C "$r" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - glrun-test/tools:latest >/dev/null
  echo "test-env: built glrun-test/tools:latest" >&2
fi
