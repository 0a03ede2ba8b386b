#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: the test Docker engine and images first
# (installed and started if missing), then build, typecheck and every test. The engine is
# stopped afterwards if this run started it.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-env/docker.sh up >/dev/null || exit 1
trap 'bash scripts/test-env/docker.sh down' EXIT
npm run build && npm run typecheck && npx vitest run "$@"
