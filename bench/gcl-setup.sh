#!/usr/bin/env bash
# Idempotent install of the peer tool gitlab-ci-local (npm package `gitlab-ci-local`) for side-by-side benchmarks.
# Uses only the npm registry (and apt for rsync). No glrun code here.
#
# Usage: gcl-setup.sh [PREFIX]          (PREFIX defaults to /tmp/gcl)
#   env GCL_VERSION (default 4.75.1, newest on npm when written)
#   env GCL_NODE20_VERSION (default 4.73.0, newest release that still starts on Node 20)
#
# Why two versions: 4.74.0+ (execa 10 / chalk 6) call Set.prototype.union at import time, which needs
# Node >= 22; on Node 20 they die with "TypeError: kW.union is not a function" (package.json declares
# no "engines"). So this script installs:
#   $PREFIX/node_modules/gitlab-ci-local          GCL_VERSION, run through a Node 22 from npm (`node@22`)
#   $PREFIX/node20/node_modules/gitlab-ci-local   GCL_NODE20_VERSION, run with the system Node 20
# and two wrappers:
#   $PREFIX/bin/gitlab-ci-local          -> GCL_VERSION  on Node 22
#   $PREFIX/bin/gitlab-ci-local-node20   -> GCL_NODE20_VERSION on system node
# Host tools gitlab-ci-local shells out to: bash, git, rsync (every run), docker (image: jobs only).
# Copied from the steering repository's shared/bench/gcl-setup.sh so the benchmarks need nothing outside
# this repository.
set -euo pipefail

PREFIX="${1:-${GCL_PREFIX:-/tmp/gcl}}"
VERSION="${GCL_VERSION:-4.75.1}"
NODE20_VERSION="${GCL_NODE20_VERSION:-4.73.0}"
NODE22_SPEC="${GCL_NODE22_SPEC:-node@22}"

for t in node npm git bash; do
    command -v "$t" >/dev/null || { echo "$t is required" >&2; exit 1; }
done

# rsync is mandatory: every pipeline run rsyncs git-tracked files into .gitlab-ci-local/builds/.docker
if ! command -v rsync >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq rsync >/dev/null
    else
        echo "rsync is required by gitlab-ci-local; install it (e.g. apt-get install rsync)" >&2; exit 1
    fi
fi

npm_install_pinned () { # dir package version
    local dir="$1" pkg="$2" ver="$3" have
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || (cd "$dir" && npm init -y >/dev/null)
    have="$(cd "$dir" && node -p "try{require('./node_modules/$pkg/package.json').version}catch(e){''}" 2>/dev/null || true)"
    if [ "$have" != "$ver" ]; then
        (cd "$dir" && npm install --no-audit --no-fund --save-exact "$pkg@$ver" >/dev/null)
    fi
}

npm_install_pinned "$PREFIX"        gitlab-ci-local "$VERSION"
npm_install_pinned "$PREFIX/node20" gitlab-ci-local "$NODE20_VERSION"

# Node 22 from the npm registry (package `node` ships the binary in node_modules/node/bin/node)
NODE22="$PREFIX/node22/node_modules/node/bin/node"
if ! [ -x "$NODE22" ] || ! "$NODE22" -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)'; then
    mkdir -p "$PREFIX/node22"
    [ -f "$PREFIX/node22/package.json" ] || (cd "$PREFIX/node22" && npm init -y >/dev/null)
    (cd "$PREFIX/node22" && npm install --no-audit --no-fund "$NODE22_SPEC" >/dev/null)
fi

mkdir -p "$PREFIX/bin"
cat > "$PREFIX/bin/gitlab-ci-local" <<W
#!/usr/bin/env bash
exec "$NODE22" "$PREFIX/node_modules/gitlab-ci-local/dist/index.js" "\$@"
W
cat > "$PREFIX/bin/gitlab-ci-local-node20" <<W
#!/usr/bin/env bash
exec node "$PREFIX/node20/node_modules/gitlab-ci-local/dist/index.js" "\$@"
W
chmod +x "$PREFIX/bin/gitlab-ci-local" "$PREFIX/bin/gitlab-ci-local-node20"

echo "gitlab-ci-local $("$PREFIX/bin/gitlab-ci-local" --version) on node $("$NODE22" --version): $PREFIX/bin/gitlab-ci-local"
echo "gitlab-ci-local $("$PREFIX/bin/gitlab-ci-local-node20" --version) on node $(node --version): $PREFIX/bin/gitlab-ci-local-node20"
