import { execFileSync } from 'node:child_process'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The Docker engine the tests use: the one scripts/test-env/docker.sh starts on a private socket
 * (override with GLRUN_TEST_DOCKER_HOST). With CI=true Docker tests never skip: with no engine
 * they fail and say how to start it. Elsewhere (a laptop without root or without Docker) they
 * are skipped, and say so: one line per test file on stderr, repeated in the closing summary by
 * test/support/summary-reporter.ts (it collects lines starting with SKIP_MARK).
 */
export const TEST_DOCKER_HOST = process.env.GLRUN_TEST_DOCKER_HOST ?? 'unix:///tmp/glrun-test-docker/docker.sock'

export const SKIP_MARK = 'glrun-test: skipped:'

let probed: string | undefined | null = null

/** Why the test engine cannot be used, or undefined when it answers. Probed once per worker. */
function engineProblem(): string | undefined {
  if (probed !== null) return probed
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: TEST_DOCKER_HOST }, stdio: 'pipe', timeout: 10_000 })
    probed = undefined
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer }
    const detail = err.code === 'ENOENT' ? 'the docker CLI is not installed' : (err.stderr?.toString().trim().split('\n').at(-1) || err.message.split('\n')[0])
    probed = `no Docker engine at ${TEST_DOCKER_HOST} (${detail})`
  }
  return probed
}

const ciRun = (): boolean => process.env.CI === 'true' || process.env.CI === '1'

/** How to get an engine; running it needs root, which is the usual reason it is missing. */
function startHint(): string {
  const root = process.getuid?.() === 0
  return `start the test engine with: bash scripts/test-env/docker.sh up${root ? '' : ' (as root: it installs Debian packages and runs dockerd)'}, or set GLRUN_TEST_DOCKER_HOST to a running engine`
}

/**
 * Whether this file's Docker tests are skipped, and why (for describe.skipIf). Never with
 * CI=true: there a missing engine is a failure (requireEngine throws in beforeAll). The reason
 * is printed here, at collection, so it shows even when every test of the file is skipped.
 */
export function dockerSkip(testFileUrl: string): string | undefined {
  if (ciRun()) return undefined
  const problem = engineProblem()
  if (!problem) return undefined
  const reason = `${problem}; ${startHint()}. Set CI=true to make this a failure.`
  const file = relative(fileURLToPath(new URL('../..', import.meta.url)), fileURLToPath(testFileUrl))
  console.warn(`${SKIP_MARK} Docker tests of ${file}: ${reason}`)
  return reason
}

export function requireEngine(): void {
  const problem = engineProblem()
  if (problem) throw new Error(`${problem}. Start the test engine with: bash scripts/test-env/docker.sh up`)
}

/** Runs the docker CLI against the test engine; returns stdout. */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: TEST_DOCKER_HOST }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })
}

/**
 * Resources that glrun running in this process (test files run in parallel workers, each its
 * own process) left on the engine: containers, networks, volumes with its pid label.
 */
export function glrunLeftovers(pid = process.pid): string[] {
  const q = (kind: string): string[] => docker(kind, 'ls', ...(kind === 'container' ? ['-a'] : []), '-q', '--filter', 'label=com.glrun.managed=true', '--filter', `label=com.glrun.pid=${pid}`).split('\n').filter(Boolean).map((x) => `${kind}:${x}`)
  return [...q('container'), ...q('network'), ...q('volume')]
}
