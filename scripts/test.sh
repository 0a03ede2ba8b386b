#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: the test Docker engine and images first
# (installed and started if missing), then build, typecheck and every test. The engine is
# stopped afterwards if this run started it.
# Without an engine (no root to install or start one, no Docker): with CI=true that is a failure;
# elsewhere the Docker tests are skipped and the run says so (each skipped file on stderr, and a
# summary line before `tests: ...`; see test/support/docker-env.ts).
set -uo pipefail
cd "$(dirname "$0")/.."
trap 'bash scripts/test-env/docker.sh down' EXIT
if ! bash scripts/test-env/docker.sh up >/dev/null; then
  if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
    echo "test.sh: the test Docker engine could not be started (see above); CI=true: failing" >&2
    exit 1
  fi
  echo "test.sh: the test Docker engine could not be started (see above): the Docker tests will be SKIPPED (set CI=true to make this a failure)" >&2
fi
npm run build && npm run typecheck && npx vitest run "$@"
