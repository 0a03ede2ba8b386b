import { execFileSync } from 'node:child_process'

/**
 * The Docker engine the tests use: the one scripts/test-env/docker.sh starts on a private socket
 * (override with GLRUN_TEST_DOCKER_HOST). Docker tests never skip: with no engine they fail and
 * say how to start it.
 */
export const TEST_DOCKER_HOST = process.env.GLRUN_TEST_DOCKER_HOST ?? 'unix:///tmp/glrun-test-docker/docker.sock'

export function requireEngine(): void {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: TEST_DOCKER_HOST }, stdio: 'pipe', timeout: 10_000 })
  } catch {
    throw new Error(`No Docker engine at ${TEST_DOCKER_HOST}. Start the test engine with: bash scripts/test-env/docker.sh up`)
  }
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
